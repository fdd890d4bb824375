/// The deliveries of one queue, as an async sequence. The broker sends at most `prefetch`
/// unsettled deliveries at a time. The sequence ends when the consumer is cancelled or the
/// connection is closed, and throws when the broker cancels it or recovery gives up. It survives
/// reconnects: after one, deliveries resume on a new channel.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias AsyncIterator = AsyncThrowingStream<AMQPDelivery, any Error>.Iterator

    public let queue: String
    public let consumerTag: String
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    /// Stops the deliveries (and keeps the connection open while the consumer is in use).
    private let stop: @Sendable () async -> Void

    /// A consumer of any transport: its deliveries, and how to stop them.
    public init(
        queue: String, consumerTag: String, deliveries: AsyncThrowingStream<AMQPDelivery, any Error>,
        cancel: @escaping @Sendable () async -> Void
    ) {
        self.queue = queue
        self.consumerTag = consumerTag
        self.stream = deliveries
        self.stop = cancel
    }

    public func makeAsyncIterator() -> AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops deliveries; those not settled yet go back to the queue.
    public func cancel() async {
        await stop()
    }
}
