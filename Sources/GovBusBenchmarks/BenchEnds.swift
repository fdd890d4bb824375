import AMQP
import Foundation

/// The two ends of a measured hop: a publisher (persistent messages with confirms, at full speed
/// with a window of unconfirmed messages, or paced at a given rate) and a consumer of what came
/// out. Each message carries its publish time in a header, so the consumer measures latency
/// through the hop, whatever the hop is.
enum BenchEnds {
    static let stampHeader = "govbus-bench-sent-at"

    static func run(
        _ messages: [AMQPMessage], publishVia publisher: AMQPConnection, exchange: String, routingKey: String,
        consumeVia consumerConnection: AMQPConnection, queue: String, window: Int, prefetch: Int, rate: Double?,
        within limit: Duration = .seconds(60)
    ) async throws -> TransportBenchmark.Figures {
        let total = messages.count
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: UInt16(prefetch))
        let consuming = Task(executorPreference: consumerConnection.executor) {
            var latencies: [Double] = []
            latencies.reserveCapacity(total)
            var lastConsume: UInt64 = 0
            for try await delivery in consumer {
                let now = TransportBenchmark.monotonicNanoseconds()
                if let stamp = delivery.properties.headers?[stampHeader]?.integerValue {
                    latencies.append(Double(now - UInt64(stamp)) / 1e6)
                }
                delivery.ack()
                if latencies.count == total {
                    lastConsume = now
                    break
                }
            }
            return (latencies, lastConsume)
        }
        let firstPublish = TransportBenchmark.monotonicNanoseconds()
        do {
            if let rate {
                try await publishPaced(messages, through: publisher, exchange: exchange, routingKey: routingKey, rate: rate)
            } else {
                try await publishAll(messages, through: publisher, exchange: exchange, routingKey: routingKey, window: window)
            }
        } catch {
            consuming.cancel()
            throw error
        }
        let (latencies, lastConsume) = try await withThrowingTaskGroup(of: ([Double], UInt64)?.self) { group in
            group.addTask { try await consuming.value }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            consuming.cancel()
            return first ?? ([], 0)
        }
        await consumer.cancel()
        guard latencies.count == total else {
            throw CoreBenchmark.Failure(description: "\(latencies.count) of \(total) messages came through \(queue) within \(limit)")
        }
        let sorted = latencies.sorted()
        return TransportBenchmark.Figures(
            throughput: Double(total) / (Double(lastConsume - firstPublish) / 1e9),
            p50: sorted[total / 2], p99: sorted[Int(Double(total) * 0.99)])
    }

    static func stamped(_ message: AMQPMessage) -> AMQPMessage {
        var stamped = message
        stamped.properties.headers?[stampHeader] = .int64(Int64(TransportBenchmark.monotonicNanoseconds()))
        return stamped
    }

    /// As many lanes as the window, each with one message awaiting its confirm.
    static func publishAll(
        _ messages: [AMQPMessage], through publisher: AMQPConnection, exchange: String, routingKey: String, window: Int
    ) async throws {
        try await withTaskExecutorPreference(publisher.executor) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<min(window, messages.count) {
                    group.addTask {
                        for index in stride(from: lane, to: messages.count, by: window) {
                            try await publisher.publish(
                                stamped(messages[index]), exchange: exchange, routingKey: routingKey, mandatory: true)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Each millisecond, what the rate says is due by then.
    static func publishPaced(
        _ messages: [AMQPMessage], through publisher: AMQPConnection, exchange: String, routingKey: String, rate: Double
    ) async throws {
        let start = ContinuousClock.now
        var next = 0
        var publishing: [AMQPPublishing] = []
        while next < messages.count {
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let due = min(messages.count, Int(seconds * rate) + 1)
            if due > next {
                publishing.append(
                    publisher.startPublishing(
                        messages[next..<due].map {
                            AMQPOutgoingMessage(stamped($0), exchange: exchange, routingKey: routingKey, mandatory: true)
                        }))
                next = due
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        for batch in publishing { try await batch.confirmed() }
    }
}
