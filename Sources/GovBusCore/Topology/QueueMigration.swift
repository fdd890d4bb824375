import Foundation
import AMQP
import Synchronization

/// Changes the arguments of a queue that already exists (a queue's arguments are fixed when it is
/// declared: declaring it again with others fails with 406 PRECONDITION_FAILED), without losing a
/// message that waits in it: the queue's bindings move to a holding queue, so that new messages
/// wait there; the waiting ones are moved over, each published (confirmed) before it is acked;
/// the queue is deleted once empty and declared anew; then the held messages move back.
///
/// Run again after a crash halfway, it ends the job: a holding queue left behind is drained into
/// the new queue. What it cannot hold: a message that a delayed-retry queue dead-letters back to the
/// queue's name in the instant between its deletion and its new declaration is dropped by the broker.
struct QueueMigration: Sendable {
    let queue: AMQPQueue
    let bindings: [AMQPBinding]

    /// Where new messages wait meanwhile: replicated as the queue is.
    var holding: AMQPQueue {
        AMQPQueue(
            "\(queue.name).migrating", kind: .quorum,
            arguments: queue.arguments.filter { $0.key == "x-quorum-initial-group-size" })
    }

    /// Declares the queue as wanted; migrates it first if it exists with other arguments.
    func run(on connection: AMQPConnection) async throws {
        do {
            try await connection.declare(queue)
        } catch let error as AMQPError where error.replyCode == 406 {
            try await migrate(on: connection)
        }
        try await drainLeftoverHolding(on: connection)
    }

    private func migrate(on connection: AMQPConnection) async throws {
        try await connection.declare(holding)
        for binding in bindings { try await connection.bind(rebound(binding, to: holding.name)) }
        for binding in bindings { try await connection.unbind(binding) }
        try await Self.move(from: queue.name, to: holding.name, on: connection)
        // Empty now (`move` saw it so), and nothing routes to it. (Quorum queues do not answer a
        // delete with if-empty in RabbitMQ 3.10: the request would wait for ever.)
        try await connection.deleteQueue(queue.name)
        try await connection.declare(queue)
    }

    /// The holding queue of a migration (this one, or one a crash interrupted): its bindings go
    /// back to the queue, then its messages, then it goes.
    private func drainLeftoverHolding(on connection: AMQPConnection) async throws {
        do {
            _ = try await connection.inspectQueue(holding.name)
        } catch let error as AMQPError where error.replyCode == 404 {
            return
        }
        for binding in bindings { try await connection.bind(binding) }
        for binding in bindings { try await connection.unbind(rebound(binding, to: holding.name)) }
        try await Self.move(from: holding.name, to: queue.name, on: connection)
        try await connection.deleteQueue(holding.name)
    }

    private func rebound(_ binding: AMQPBinding, to queue: String) -> AMQPBinding {
        AMQPBinding(queue: queue, exchange: binding.exchange, routingKey: binding.routingKey, arguments: binding.arguments)
    }

    /// Moves every message of `source` (which nothing publishes to any more) into `target`,
    /// through the default exchange: each is confirmed in `target` before it is acked in `source`.
    /// With `byType`, into the exchange `target` instead, each with its type (after
    /// `routingKeyPrefix`) as routing key.
    static func move(
        from source: String, to target: String, byType: Bool = false, routingKeyPrefix: String = "",
        on connection: AMQPConnection
    ) async throws {
        // A delivery on its way when the consumer stopped went back to the source: another round.
        repeat {
            try await moveOnce(from: source, to: target, byType: byType, routingKeyPrefix: routingKeyPrefix, on: connection)
        } while try await connection.inspectQueue(source).messageCount > 0
    }

    private static func moveOnce(
        from source: String, to target: String, byType: Bool, routingKeyPrefix: String, on connection: AMQPConnection
    ) async throws {
        let consumer = try await connection.consume(queue: source, prefetch: 64)
        let progress = MoveProgress()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await delivery in consumer {
                    progress.counts.withLock { $0.taken += 1 }
                    // As the core's own copy: the broker takes only the connection's user id, and
                    // the core reads the sender back from govbus-sender.
                    let copy = AMQPMessage(body: delivery.body, properties: delivery.properties)
                        .withoutForgedCoreHeaders(coreUser: connection.configuration.user)
                        .forwarded(byCore: connection.configuration.user)
                    do {
                        try await connection.publish(
                            copy, exchange: byType ? target : "",
                            routingKey: byType ? routingKeyPrefix + (delivery.properties.type ?? "") : target, mandatory: true)
                    } catch let error as AMQPError where byType && error.kind == .unroutable {
                        // No queue takes its type any more (or it has none): to the dead letters, not lost.
                        try await connection.publish(
                            copy.deadLettered(
                                check: "delivery", reason: "no queue takes '\(delivery.properties.type ?? "")' any more",
                                where: "core", at: Date()),
                            exchange: CoreTopology.deadExchange, routingKey: delivery.routingKey, mandatory: true)
                    }
                    delivery.ack()
                    progress.counts.withLock { $0.settled += 1 }
                }
            }
            group.addTask {
                // Done when, twice in a row, the source holds nothing ready and every delivery
                // taken is settled.
                var quietLooks = 0
                while quietLooks < 2 {
                    try await Task.sleep(for: .milliseconds(100))
                    let ready = try await connection.inspectQueue(source).messageCount
                    let quiet = ready == 0 && progress.counts.withLock { $0.taken == $0.settled }
                    quietLooks = quiet ? quietLooks + 1 : 0
                }
                await consumer.cancel()
            }
            try await group.waitForAll()
        }
    }
}

/// How many deliveries a move has taken and settled, shared by its two tasks.
private final class MoveProgress: Sendable {
    let counts = Mutex((taken: 0, settled: 0))
}
