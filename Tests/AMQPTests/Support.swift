import AMQP
import AMQPTesting
import Foundation
import Testing

/// Connects to the test broker (the one scripts/test started) with `configure` applied.
func connectToTestBroker(
    _ configure: (inout AMQPConfiguration) -> Void = { _ in }
) async throws -> (TestBroker, AMQPConnection) {
    let broker = try TestBroker.fromEnvironment()
    var configuration = try AMQPConfiguration(url: broker.amqpURL)
    configure(&configuration)
    return (broker, try await AMQPConnection.connect(configuration))
}

/// The next delivery of `consumer`, or a failure after `limit`.
func nextDelivery(_ consumer: AMQPConsumer, within limit: Duration = .seconds(10)) async throws -> AMQPDelivery {
    try await withTimeLimit(limit, "waiting for a delivery on \(consumer.queue)") {
        var iterator = consumer.makeAsyncIterator()
        guard let delivery = try await iterator.next() else {
            throw TimeLimitExceeded(description: "the consumer of \(consumer.queue) ended")
        }
        return delivery
    }
}

/// Runs `body` and fails the test if it takes longer than `limit`.
func withTimeLimit<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TimeLimitExceeded(description: "\(what) took longer than \(limit)")
        }
        group.cancelAll()
        return value
    }
}

struct TimeLimitExceeded: Error, CustomStringConvertible {
    let description: String
}

/// Catches the AMQPError an operation throws, or records an issue when it throws none or another.
@discardableResult
func expectAMQPError(
    _ kind: AMQPError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> AMQPError? {
    do {
        try await body()
        Issue.record("expected an AMQPError of kind \(kind), got success", sourceLocation: sourceLocation)
    } catch let error as AMQPError {
        #expect(error.kind == kind, "error: \(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected an AMQPError of kind \(kind), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
