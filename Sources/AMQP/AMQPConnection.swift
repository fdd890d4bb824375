public import Logging
import Synchronization

/// A connection to RabbitMQ through rabbitmq-c, driven by a thread of its own, with a channel for
/// topology requests, a confirm-mode channel for publishing and a channel per consumer. When it
/// drops it reconnects with backoff and restores what it had (see `AMQPRecoveryPolicy`).
public final class AMQPConnection: Sendable {
    let driver: ConnectionDriver
    public let configuration: AMQPConfiguration
    /// Connection, loss, recovery, blocking and closing, as they happen (one reader).
    public let events: AsyncStream<AMQPConnectionEvent>
    private let nextConsumerID = Atomic<Int>(0)

    private init(
        driver: ConnectionDriver, configuration: AMQPConfiguration, events: AsyncStream<AMQPConnectionEvent>
    ) {
        self.driver = driver
        self.configuration = configuration
        self.events = events
    }

    deinit {
        driver.submit(.close(nil))
    }

    /// Connects and logs in, or throws an `AMQPError` saying why not, within the connect timeout.
    public static func connect(
        _ configuration: AMQPConfiguration, logger: Logger = Logger(label: "govbus.amqp")
    ) async throws -> AMQPConnection {
        let (events, eventSink) = AsyncStream.makeStream(
            of: AMQPConnectionEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let driver = ConnectionDriver(configuration: configuration, logger: logger, events: eventSink)
        try await withCheckedThrowingContinuation { (connected: CheckedContinuation<Void, any Error>) in
            driver.start(connected: connected)
        }
        return AMQPConnection(driver: driver, configuration: configuration, events: events)
    }

    public static func connect(
        url: String, logger: Logger = Logger(label: "govbus.amqp")
    ) async throws -> AMQPConnection {
        try await connect(AMQPConfiguration(url: url), logger: logger)
    }

    /// The connection's own thread as a task executor. A task that prefers it
    /// (`Task(executorPreference: connection.executor)` or `withTaskExecutorPreference`) runs on
    /// that thread between its reads and writes: a tight publish or consume loop then costs no
    /// thread hop per message. Only for work that is quick per message: while such a task runs,
    /// the connection reads nothing and sends no heartbeat.
    public var executor: any TaskExecutor { driver }

    /// Closes the connection; pending publishes and requests fail, consumers end.
    public func close() async {
        await withCheckedContinuation { (closed: CheckedContinuation<Void, Never>) in
            if !driver.submit(.close(closed)) { closed.resume() }
        }
    }

    // MARK: Topology

    public func declare(_ exchange: AMQPExchange) async throws {
        _ = try await control(.declareExchange(exchange))
    }

    @discardableResult
    public func declare(_ queue: AMQPQueue) async throws -> AMQPQueueStatus {
        guard case .queue(let status) = try await control(.declareQueue(queue)) else {
            throw AMQPError(.protocolError, "queue.declare gave no queue status")
        }
        return status
    }

    public func bind(_ binding: AMQPBinding) async throws {
        _ = try await control(.bind(binding))
    }

    public func unbind(_ binding: AMQPBinding) async throws {
        _ = try await control(.unbind(binding))
    }

    /// A passive declare: the queue's message and consumer counts; `channelClosed` 404 if it is missing.
    public func inspectQueue(_ name: String) async throws -> AMQPQueueStatus {
        guard case .queue(let status) = try await control(.inspectQueue(name)) else {
            throw AMQPError(.protocolError, "queue.declare gave no queue status")
        }
        return status
    }

    /// A passive declare of an exchange: throws `channelClosed` 404 if it is missing.
    public func inspectExchange(_ name: String) async throws {
        _ = try await control(.inspectExchange(name))
    }

    /// Deletes a queue and returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String, ifUnused: Bool = false, ifEmpty: Bool = false) async throws -> UInt32 {
        guard case .messageCount(let count) = try await control(.deleteQueue(name, ifUnused: ifUnused, ifEmpty: ifEmpty))
        else { return 0 }
        return count
    }

    public func deleteExchange(_ name: String, ifUnused: Bool = false) async throws {
        _ = try await control(.deleteExchange(name, ifUnused: ifUnused))
    }

    /// Removes the ready messages of a queue and returns how many there were.
    @discardableResult
    public func purgeQueue(_ name: String) async throws -> UInt32 {
        guard case .messageCount(let count) = try await control(.purgeQueue(name)) else { return 0 }
        return count
    }

    private func control(_ operation: ControlOperation) async throws -> ControlResult {
        try await withCheckedThrowingContinuation { continuation in
            let request = ControlRequest(
                operation: operation, deadline: .now + configuration.requestTimeout,
                continuation: continuation)
            if !driver.submit(.control(request)) { continuation.resume(throwing: driver.endedError) }
        }
    }

    // MARK: Publishing

    /// Publishes and returns once the broker has confirmed the message. Throws `unroutable` when a
    /// `mandatory` message reached no queue, `nacked` when the broker refused it, `channelClosed`
    /// when the broker closed the channel (e.g. 404: no such exchange), `confirmTimeout` when no
    /// confirm came within the publish timeout. Across a reconnect, the message is published again.
    public func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false
    ) async throws {
        try await withUnsafeThrowingContinuation { continuation in
            let pending = PendingPublish(
                message: message, exchange: exchange, routingKey: routingKey, mandatory: mandatory,
                deadline: .now + configuration.publishTimeout, waiter: .continuation(continuation))
            if !driver.submit(.publish(pending)) { pending.settle(.failure(driver.endedError)) }
        }
    }

    /// Hands the messages to the connection at once, to be sent in this order, and returns what
    /// to await their confirms with. A caller that must not wait for one message's confirm
    /// before it takes the next (a pipeline) uses this; `publish` is this for one message.
    public func startPublishing(_ messages: [AMQPOutgoingMessage]) -> AMQPPublishing {
        let publishing = AMQPPublishing(count: messages.count)
        let deadline = ContinuousClock.now + configuration.publishTimeout
        for (index, outgoing) in messages.enumerated() {
            let pending = PendingPublish(
                message: outgoing.message, exchange: outgoing.exchange, routingKey: outgoing.routingKey,
                mandatory: outgoing.mandatory, deadline: deadline, waiter: .batch(publishing, index: index))
            if !driver.submit(.publish(pending)) { pending.settle(.failure(driver.endedError)) }
        }
        return publishing
    }

    // MARK: Consuming

    /// Starts consuming `queue` with manual acknowledgements.
    public func consume(
        queue: String, prefetch: UInt16 = 100, exclusive: Bool = false, arguments: AMQPTable = [:]
    ) async throws -> AMQPConsumer {
        let id = nextConsumerID.add(1, ordering: .relaxed).newValue
        let consumerTag = "govbus-\(id)-\(UInt32.random(in: 0...UInt32.max))"
        let (stream, deliveries) = AsyncThrowingStream.makeStream(of: AMQPDelivery.self, throwing: (any Error).self)
        let record = ConsumerRecord(
            id: id, queue: queue, consumerTag: consumerTag, prefetch: prefetch, exclusive: exclusive,
            arguments: arguments, deliveries: deliveries)
        let driver = driver
        deliveries.onTermination = { termination in
            if case .cancelled = termination { driver.submit(.cancel(consumerID: id, nil)) }
        }
        do {
            try await withCheckedThrowingContinuation { (registered: CheckedContinuation<Void, any Error>) in
                if !driver.submit(.consume(record, registered)) { registered.resume(throwing: driver.endedError) }
            }
        } catch {
            deliveries.finish(throwing: error)
            throw error
        }
        // The closure holds the connection: it stays open while the consumer is in use.
        return AMQPConsumer(queue: queue, consumerTag: consumerTag, deliveries: stream) {
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                if !self.driver.submit(.cancel(consumerID: id, waiter)) { waiter.resume() }
            }
        }
    }
}
