import Synchronization

/// A message to publish with `AMQPConnection.startPublishing`.
public struct AMQPOutgoingMessage: Sendable {
    public var message: AMQPMessage
    public var exchange: String
    public var routingKey: String
    public var mandatory: Bool

    public init(_ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool = false) {
        self.message = message
        self.exchange = exchange
        self.routingKey = routingKey
        self.mandatory = mandatory
    }
}

/// Messages handed to the connection whose confirms have not all come yet. `confirmed()` returns
/// once the broker has confirmed every one, or throws the first failure (in the batch's order).
public final class AMQPPublishing: Sendable {
    private struct State {
        var outstanding: Int
        var failure: (index: Int, error: AMQPError)?
        var waiter: CheckedContinuation<Void, any Error>?
    }

    private let state: Mutex<State>

    /// `count` messages handed to a transport, none confirmed yet.
    public init(count: Int) {
        state = Mutex(State(outstanding: count))
    }

    /// Whether every confirm has come (or one failed).
    public var isSettled: Bool { state.withLock { $0.outstanding == 0 } }

    public func confirmed() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let result: Result<Void, any Error>? = state.withLock { state in
                guard state.outstanding == 0 else {
                    state.waiter = continuation
                    return nil
                }
                return Self.result(of: state)
            }
            if let result { continuation.resume(with: result) }
        }
    }

    /// The broker's answer for the message at `index` (transports call it).
    public func settle(_ index: Int, _ result: Result<Void, AMQPError>) {
        let waiter: (CheckedContinuation<Void, any Error>, Result<Void, any Error>)? = state.withLock { state in
            if case .failure(let error) = result, state.failure.map({ index < $0.index }) ?? true {
                state.failure = (index, error)
            }
            state.outstanding -= 1
            guard state.outstanding == 0, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return (waiter, Self.result(of: state))
        }
        if let (continuation, result) = waiter { continuation.resume(with: result) }
    }

    private static func result(of state: State) -> Result<Void, any Error> {
        if let failure = state.failure { .failure(failure.error) } else { .success(()) }
    }
}
