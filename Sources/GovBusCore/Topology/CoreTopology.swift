public import AMQP

/// DESIGN.md's topology, which the core declares (its broker user owns it):
/// adapters publish to `govbus.ingress` (direct, routing key = message type), bound to the core's
/// `govbus.core.ingress`; the core publishes to `govbus.deliver` (topic, `<adapter>.<type>`), bound
/// `<adapter>.#` to each adapter's inbox `govbus.adapter.<adapter>`; delayed retries wait in
/// `govbus.retry.<delay>` and dead-letter back to their origin queue; what cannot be handled goes
/// to `govbus.dead` and on to `govbus.dead-letters`. Every queue is a durable quorum queue.
public struct CoreTopology: Sendable, Hashable {
    public static let ingressExchange = "govbus.ingress"
    public static let coreQueue = "govbus.core.ingress"
    public static let deliverExchange = "govbus.deliver"
    public static let deadExchange = "govbus.dead"
    public static let deadLetterQueue = "govbus.dead-letters"

    /// The waits of the delayed retries, shortest first.
    public static let retryDelays: [(label: String, milliseconds: Int)] = [
        ("1s", 1_000), ("10s", 10_000), ("1m", 60_000), ("10m", 600_000),
    ]

    /// Deliveries of one inbox message at most (an adapter retries transient failures with
    /// growing pauses up to 30 s): then it is dead-lettered.
    public static let inboxDeliveryLimit: Int32 = 50

    /// Deliveries of one message to the core at most, the backstop of `CrashWitness`: a message
    /// that kills the core in a way the witness cannot name comes back after each restart, and
    /// after this many goes to the dead letters. Every return counts (a crash, a stop, a lost
    /// connection) for each of the up to 256 messages in the core's hands, so the limit leaves room
    /// for a few restarts during a backlog.
    public static let coreDeliveryLimit: Int32 = 10

    /// The core's queue: a quorum queue whose deliveries are limited into the dead letters.
    public static var coreIngress: AMQPQueue {
        AMQPQueue(
            coreQueue, kind: .quorum,
            arguments: ["x-dead-letter-exchange": .string(deadExchange), "x-delivery-limit": .int32(coreDeliveryLimit)])
    }

    public let adapters: [String]
    public let messageTypes: [String]

    public init(adapters: [String], messageTypes: [String]) {
        self.adapters = adapters.sorted()
        self.messageTypes = messageTypes.sorted()
    }

    public static func inbox(of adapter: String) -> String { "govbus.adapter.\(adapter)" }

    /// Where a message waits before its retry: the exchange of that delay (fanout into its queue).
    /// Publish to it with the origin queue's name as routing key; the queue's TTL then sends the
    /// message back to the origin through the default exchange.
    public static func retryExchange(_ label: String) -> String { "govbus.retry.\(label)" }

    public var exchanges: [AMQPExchange] {
        [
            AMQPExchange(Self.ingressExchange, kind: .direct),
            AMQPExchange(Self.deliverExchange, kind: .topic),
            AMQPExchange(Self.deadExchange, kind: .fanout),
        ] + Self.retryDelays.map { AMQPExchange(Self.retryExchange($0.label), kind: .fanout) }
    }

    public var queues: [AMQPQueue] {
        [
            Self.coreIngress, AMQPQueue(Self.deadLetterQueue, kind: .quorum),
            // The core's signed audit checkpoints (published through the default exchange), for a
            // shipper to take off the machine; the oldest go past ~70 days of one a minute.
            AMQPQueue(AuditCheckpoint.queue, kind: .quorum, arguments: ["x-max-length": .int32(100_000)]),
        ]
            + adapters.map { adapter in
                // What an adapter rejects, or cannot handle after many deliveries, waits in the dead letters.
                AMQPQueue(
                    Self.inbox(of: adapter), kind: .quorum,
                    arguments: [
                        "x-dead-letter-exchange": .string(Self.deadExchange), "x-delivery-limit": .int32(Self.inboxDeliveryLimit),
                    ])
            }
            + Self.retryDelays.map { delay in
                AMQPQueue(
                    Self.retryExchange(delay.label), kind: .quorum,
                    arguments: [
                        "x-message-ttl": .int32(Int32(delay.milliseconds)),
                        // The default exchange, with the message's own routing key: its origin queue.
                        "x-dead-letter-exchange": .string(""),
                    ])
            }
    }

    public var bindings: [AMQPBinding] {
        messageTypes.map { AMQPBinding(queue: Self.coreQueue, exchange: Self.ingressExchange, routingKey: $0) }
            + adapters.map { AMQPBinding(queue: Self.inbox(of: $0), exchange: Self.deliverExchange, routingKey: "\($0).#") }
            + [AMQPBinding(queue: Self.deadLetterQueue, exchange: Self.deadExchange, routingKey: "")]
            + Self.retryDelays.map {
                AMQPBinding(queue: Self.retryExchange($0.label), exchange: Self.retryExchange($0.label), routingKey: "")
            }
    }

    /// Declares everything; the connection redeclares it after a reconnect. A queue declared
    /// before with other arguments (an older version of this topology) is migrated, its waiting
    /// messages kept.
    public func declare(on connection: AMQPConnection) async throws {
        for exchange in exchanges { try await connection.declare(exchange) }
        for queue in queues {
            try await QueueMigration(queue: queue, bindings: bindings.filter { $0.queue == queue.name }).run(on: connection)
        }
        for binding in bindings { try await connection.bind(binding) }
    }
}
