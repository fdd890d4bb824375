public import AMQP
import Foundation
import Synchronization

/// A broker in memory, for unit tests of the pipelines that run over an `AMQPTransport` (the
/// core's router, an adapter's runtime): no network, no RabbitMQ. It keeps as much of AMQP as
/// those pipelines rely on:
///
/// - queues in order, one consumer each, at most `prefetch` deliveries unsettled;
/// - bindings by exact routing key (`#` for any);
/// - publisher confirms: every publish is confirmed, unless `refusePublishing` is set, and a
///   `mandatory` message that reaches no queue fails as unroutable;
/// - `nack(requeue: true)` puts a message back at the head of its queue, redelivered, with
///   `x-delivery-count` one higher (as quorum queues count); `reject(requeue: false)` dead-letters it.
///
/// Everything published and every settlement is recorded for the test to check. Not kept: `multiple`
/// acks (each delivery is settled alone), delivery limits, and exchanges other than by binding.
public final class InMemoryBroker: AMQPTransport {
    public struct Published: Sendable {
        public let exchange: String
        public let routingKey: String
        public let message: AMQPMessage
    }

    public enum Settled: Sendable, Hashable {
        case acked, requeued, rejected
    }

    private struct Waiting {
        var message: AMQPMessage
        var redelivered = false
        var deliveries = 0
    }

    private struct Queue {
        var ready: [Waiting] = []
        var unsettled: [UInt64: Waiting] = [:]
        var consumer: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation?
        var consumerTag = ""
        var prefetch = 0
    }

    private struct State {
        var queues: [String: Queue] = [:]
        var bindings: [String: [(key: String, queue: String)]] = [:]
        var published: [Published] = []
        var settlements: [(messageID: String, settled: Settled)] = []
        var deadLettered: [AMQPMessage] = []
        var nextTag: UInt64 = 0
        var refusePublishing = false
        var refused = 0
    }

    private let state = Mutex(State())
    public let user: String
    public let events: AsyncStream<AMQPConnectionEvent>
    private let eventsInput: AsyncStream<AMQPConnectionEvent>.Continuation

    public init(user: String) {
        self.user = user
        (events, eventsInput) = AsyncStream.makeStream(of: AMQPConnectionEvent.self)
        eventsInput.yield(.connected)
    }

    // MARK: What a test sets up and reads

    public func declare(queue: String) {
        state.withLock { state in
            if state.queues[queue] == nil { state.queues[queue] = Queue() }
        }
    }

    /// Messages published to `exchange` with `routingKey` (`#`: any) go to `queue`.
    public func bind(queue: String, exchange: String, routingKey: String = "#") {
        declare(queue: queue)
        state.withLock { $0.bindings[exchange, default: []].append((routingKey, queue)) }
    }

    /// Puts a message straight on a queue, as if routed there.
    public func put(_ message: AMQPMessage, on queue: String) {
        declare(queue: queue)
        state.withLock { $0.queues[queue]!.ready.append(Waiting(message: message)) }
        dispatch(queue)
    }

    /// While set, every publish is nacked by the "broker".
    public var refusePublishing: Bool {
        get { state.withLock { $0.refusePublishing } }
        set { state.withLock { $0.refusePublishing = newValue } }
    }

    public var published: [Published] { state.withLock { $0.published } }
    /// How many publishes were refused while `refusePublishing` was set.
    public var refusedCount: Int { state.withLock { $0.refused } }
    public var deadLettered: [AMQPMessage] { state.withLock { $0.deadLettered } }

    /// How each delivery of the message with that id was settled, in order.
    public func settlements(of messageID: String) -> [Settled] {
        state.withLock { $0.settlements.filter { $0.messageID == messageID }.map(\.settled) }
    }

    /// The ids of the messages acked, in the order of their acks.
    public var acked: [String] {
        state.withLock { $0.settlements.filter { $0.settled == .acked }.map(\.messageID) }
    }

    /// Waits (polling) until `condition` holds; throws after `limit`. The limit is generous: the
    /// pipelines under test run on Swift concurrency's few threads, which other tests running at
    /// the same moment may keep busy for seconds.
    public func wait(
        until condition: @Sendable (InMemoryBroker) -> Bool, within limit: Duration = .seconds(60)
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition(self) {
            guard ContinuousClock.now < deadline else { throw AMQPError(.timeout, "the in-memory broker waited \(limit) in vain") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: AMQPTransport

    public func consume(queue: String, prefetch: UInt16, exclusive: Bool, arguments: AMQPTable) async throws -> AMQPConsumer {
        let (stream, input) = AsyncThrowingStream.makeStream(of: AMQPDelivery.self, throwing: (any Error).self)
        let tag = "in-memory-\(UUID().uuidString.prefix(8))"
        try state.withLock { state in
            guard state.queues[queue] != nil else { throw AMQPError(.channelClosed, "NOT_FOUND - no queue '\(queue)'", replyCode: 404) }
            guard state.queues[queue]!.consumer == nil else {
                throw AMQPError(.accessRefused, "the in-memory broker keeps one consumer per queue ('\(queue)')")
            }
            state.queues[queue]!.consumer = input
            state.queues[queue]!.consumerTag = tag
            state.queues[queue]!.prefetch = Int(max(1, prefetch))
        }
        dispatch(queue)
        return AMQPConsumer(queue: queue, consumerTag: tag, deliveries: stream) { [self] in
            stopConsuming(queue)
        }
    }

    public func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool) async throws {
        try route(AMQPOutgoingMessage(message, exchange: exchange, routingKey: routingKey, mandatory: mandatory)).get()
    }

    public func startPublishing(_ messages: [AMQPOutgoingMessage]) -> AMQPPublishing {
        let publishing = AMQPPublishing(count: messages.count)
        for (index, message) in messages.enumerated() { publishing.settle(index, route(message)) }
        return publishing
    }

    public func inspectQueue(_ name: String) async throws -> AMQPQueueStatus {
        try state.withLock { state in
            guard let queue = state.queues[name] else { throw AMQPError(.channelClosed, "NOT_FOUND - no queue '\(name)'", replyCode: 404) }
            return AMQPQueueStatus(
                name: name, messageCount: UInt32(queue.ready.count), consumerCount: queue.consumer == nil ? 0 : 1)
        }
    }

    public func close() async {
        let consumers = state.withLock { state in Array(state.queues.keys) }
        for queue in consumers { stopConsuming(queue) }
        eventsInput.yield(.closed(nil))
        eventsInput.finish()
    }

    // MARK: Inside

    private func route(_ outgoing: AMQPOutgoingMessage) -> Result<Void, AMQPError> {
        let queues: [String]? = state.withLock { state in
            if state.refusePublishing {
                state.refused += 1
                return nil
            }
            state.published.append(
                Published(exchange: outgoing.exchange, routingKey: outgoing.routingKey, message: outgoing.message))
            let queues = (state.bindings[outgoing.exchange] ?? [])
                .filter { $0.key == "#" || $0.key == outgoing.routingKey }.map(\.queue)
            for queue in queues { state.queues[queue]?.ready.append(Waiting(message: outgoing.message)) }
            return queues
        }
        guard let queues else { return .failure(AMQPError(.nacked, "the in-memory broker refuses publishing")) }
        if outgoing.mandatory, queues.isEmpty {
            return .failure(AMQPError(.unroutable, "exchange '\(outgoing.exchange)' routed '\(outgoing.routingKey)' to no queue"))
        }
        for queue in queues { dispatch(queue) }
        return .success(())
    }

    /// Hands the queue's consumer what it may have now. Under the lock, so that two dispatches of
    /// one queue (a put and a settle at once) cannot hand its messages out of order.
    private func dispatch(_ name: String) {
        state.withLock { state in
            guard var queue = state.queues[name], let consumer = queue.consumer else { return }
            while queue.unsettled.count < queue.prefetch, !queue.ready.isEmpty {
                var waiting = queue.ready.removeFirst()
                state.nextTag += 1
                let tag = state.nextTag
                var properties = waiting.message.properties
                if waiting.deliveries > 0 {
                    var headers = properties.headers ?? [:]
                    headers["x-delivery-count"] = .int64(Int64(waiting.deliveries))
                    properties.headers = headers
                }
                waiting.deliveries += 1
                queue.unsettled[tag] = waiting
                // A yield only enqueues: it does not wait for the consumer.
                consumer.yield(
                    AMQPDelivery(
                        body: waiting.message.body, properties: properties, exchange: "", routingKey: name,
                        redelivered: waiting.redelivered, deliveryTag: tag, consumerTag: queue.consumerTag
                    ) { [weak self] tag, settlement in self?.settle(name, tag, settlement) })
            }
            state.queues[name] = queue
        }
    }

    private func settle(_ name: String, _ tag: UInt64, _ settlement: Settlement) {
        state.withLock { state in
            guard var waiting = state.queues[name]?.unsettled.removeValue(forKey: tag) else { return }
            let id = waiting.message.properties.messageID ?? ""
            switch settlement {
            case .ack:
                state.settlements.append((id, .acked))
            case .nack(_, let requeue) where requeue, .reject(let requeue) where requeue:
                waiting.redelivered = true
                state.queues[name]!.ready.insert(waiting, at: 0)
                state.settlements.append((id, .requeued))
            case .nack, .reject:
                state.deadLettered.append(waiting.message)
                state.settlements.append((id, .rejected))
            }
        }
        dispatch(name)
    }

    /// Ends the queue's consumer; what it had not settled goes back to the head of the queue.
    private func stopConsuming(_ name: String) {
        let consumer: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation? = state.withLock { state in
            guard var queue = state.queues[name], let consumer = queue.consumer else { return nil }
            let unsettled = queue.unsettled.sorted { $0.key < $1.key }.map { entry in
                var waiting = entry.value
                waiting.redelivered = true
                return waiting
            }
            queue.ready.insert(contentsOf: unsettled, at: 0)
            queue.unsettled = [:]
            queue.consumer = nil
            state.queues[name] = queue
            return consumer
        }
        consumer?.finish()
    }
}
