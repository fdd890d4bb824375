/// The deliveries of one queue, as an async sequence. The broker sends at most `prefetch`
/// unsettled deliveries at a time. The sequence ends when the consumer is cancelled or the
/// connection is closed, and throws when the broker cancels it or recovery gives up. It survives
/// reconnects: after one, deliveries resume on a new channel.
public struct AMQPConsumer: AsyncSequence, Sendable {
    public typealias Element = AMQPDelivery
    public typealias AsyncIterator = AsyncThrowingStream<AMQPDelivery, any Error>.Iterator

    public let queue: String
    public let consumerTag: String
    let id: Int
    let stream: AsyncThrowingStream<AMQPDelivery, any Error>
    /// Keeps the connection open while the consumer is in use.
    let connection: AMQPConnection

    public func makeAsyncIterator() -> AsyncIterator {
        stream.makeAsyncIterator()
    }

    /// Stops deliveries; those not settled yet go back to the queue.
    public func cancel() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            if !connection.driver.submit(.cancel(consumerID: id, waiter)) { waiter.resume() }
        }
    }
}
