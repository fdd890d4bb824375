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
        [AMQPQueue(Self.coreQueue, kind: .quorum), AMQPQueue(Self.deadLetterQueue, kind: .quorum)]
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

    /// Declares everything; the connection redeclares it after a reconnect.
    public func declare(on connection: AMQPConnection) async throws {
        for exchange in exchanges { try await connection.declare(exchange) }
        for queue in queues { try await connection.declare(queue) }
        for binding in bindings { try await connection.bind(binding) }
    }
}
