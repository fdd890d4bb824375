/// What other threads ask of a connection's driver thread. Each value crosses to that thread once,
/// through the driver's inbox, and is touched only there afterwards.
enum DriverCommand: Sendable {
    case publish(PendingPublish)
    case control(ControlRequest)
    case consume(ConsumerRecord, CheckedContinuation<Void, any Error>)
    case cancel(consumerID: Int, CheckedContinuation<Void, Never>?)
    case settle(consumerID: Int, generation: UInt64, deliveryTag: UInt64, Settlement)
    case close(CheckedContinuation<Void, Never>?)
    /// A task job that prefers this connection's thread as its executor.
    case runJob(UnownedJob)
}

extension DriverCommand {
    /// Whether the command must wake a sleeping driver at once. Settling a delivery need not, nor
    /// publishing while earlier messages await their confirm: the driver then sleeps a millisecond
    /// at most and takes such commands with whatever wakes it first (a confirm, a delivery), so
    /// that a busy connection sends in batches instead of waking its thread for every message.
    func wakesDriver(whilePublishesInFlight inFlight: Bool) -> Bool {
        switch self {
        case .settle: false
        case .publish: !inFlight
        default: true
        }
    }
}

/// How a delivery is settled: `ack`, `nack` or `reject`.
public enum Settlement: Sendable, Hashable {
    case ack(multiple: Bool)
    case nack(multiple: Bool, requeue: Bool)
    case reject(requeue: Bool)
}

/// A message waiting to be sent or confirmed, with the caller waiting on it.
final class PendingPublish: @unchecked Sendable {
    // @unchecked: created by the caller, then owned by the driver thread alone (see DriverCommand).
    let message: AMQPMessage
    let exchange: String
    let routingKey: String
    let mandatory: Bool
    let deadline: ContinuousClock.Instant
    /// Set when the broker returned this mandatory message; its confirm then reports this error.
    var returnedError: AMQPError?
    /// Who hears of the confirm: a waiting caller, or a batch (see `AMQPPublishing`).
    enum Waiter {
        // Unsafe rather than checked: this is the hottest path, and `settle` resumes it once only.
        case continuation(UnsafeContinuation<Void, any Error>)
        case batch(AMQPPublishing, index: Int)
    }
    private var waiter: Waiter?

    init(
        message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool,
        deadline: ContinuousClock.Instant, waiter: Waiter
    ) {
        self.message = message
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
        self.deadline = deadline
        self.waiter = waiter
    }

    var isSettled: Bool { waiter == nil }

    func settle(_ result: Result<Void, AMQPError>) {
        switch waiter {
        case .continuation(let continuation): continuation.resume(with: result)
        case .batch(let publishing, let index): publishing.settle(index, result)
        case nil: break
        }
        waiter = nil
    }
}

enum ControlOperation: Sendable {
    case declareExchange(AMQPExchange)
    case declareQueue(AMQPQueue)
    case inspectExchange(String)
    case inspectQueue(String)
    case bind(AMQPBinding)
    case unbind(AMQPBinding)
    case purgeQueue(String)
    case deleteQueue(String, ifUnused: Bool, ifEmpty: Bool)
    case deleteExchange(String, ifUnused: Bool)
}

enum ControlResult: Sendable {
    case done
    case queue(AMQPQueueStatus)
    case messageCount(UInt32)
}

struct ControlRequest: Sendable {
    let operation: ControlOperation
    let deadline: ContinuousClock.Instant
    let continuation: CheckedContinuation<ControlResult, any Error>
}

/// A consumer as the driver keeps it across reconnects.
final class ConsumerRecord: @unchecked Sendable {
    // @unchecked: created by the caller, then owned by the driver thread alone (see DriverCommand).
    let id: Int
    let queue: String
    let consumerTag: String
    let prefetch: UInt16
    let exclusive: Bool
    let arguments: AMQPTable
    let deliveries: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
    /// The channel it consumes on now; nil while the connection is down.
    var channel: UInt16?
    /// Grows with every registration, so that settling a delivery of an earlier connection is
    /// recognised as stale (its tag means nothing on the new channel).
    var generation: UInt64 = 0
    var acknowledgements = AcknowledgementCoalescer()
    /// The tag of the latest delivery handed to the application on the current channel.
    var lastDeliveryTag: UInt64 = 0

    var hasUnsettledDeliveries: Bool { lastDeliveryTag > acknowledgements.settledThrough }

    init(
        id: Int, queue: String, consumerTag: String, prefetch: UInt16, exclusive: Bool,
        arguments: AMQPTable, deliveries: AsyncThrowingStream<AMQPDelivery, any Error>.Continuation
    ) {
        self.id = id
        self.queue = queue
        self.consumerTag = consumerTag
        self.prefetch = prefetch
        self.exclusive = exclusive
        self.arguments = arguments
        self.deliveries = deliveries
    }
}

/// What the driver declared, in order, to declare again after a reconnect.
enum TopologyStep: Hashable {
    case exchange(AMQPExchange)
    case queue(AMQPQueue)
    case binding(AMQPBinding)
}

/// A message whose method frame has arrived and whose header and body frames are arriving.
struct PartialContent {
    enum Kind {
        case delivery(IncomingFrame.Deliver)
        case returned(IncomingFrame.Return)
    }

    let kind: Kind
    var bodySize = 0
    var headerReceived = false
    var properties = AMQPProperties()
    var body: [UInt8] = []

    var isComplete: Bool { headerReceived && body.count >= bodySize }
}
