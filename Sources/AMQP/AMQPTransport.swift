/// What the bus's pipelines (the core's router, an adapter's runtime) need of a broker: consume
/// with manual acknowledgements, publish with confirms, look a queue up. `AMQPConnection` is the
/// real one; unit tests drive the pipelines with an in-memory one (AMQPTesting's `InMemoryBroker`).
public protocol AMQPTransport: Sendable {
    /// The broker user: the `user_id` of what is published, which the broker checks.
    var user: String { get }
    var events: AsyncStream<AMQPConnectionEvent> { get }
    func consume(queue: String, prefetch: UInt16, exclusive: Bool, arguments: AMQPTable) async throws -> AMQPConsumer
    func publish(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool) async throws
    func startPublishing(_ messages: [AMQPOutgoingMessage]) -> AMQPPublishing
    func inspectQueue(_ name: String) async throws -> AMQPQueueStatus
    func close() async
}

extension AMQPConnection: AMQPTransport {
    public var user: String { configuration.user }
}
