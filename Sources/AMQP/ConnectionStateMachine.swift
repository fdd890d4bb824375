/// The life of one connection, from first connect through drops and recoveries to its close, as a
/// plain value: events go in, actions come out, and the driver carries them out. No I/O here, so
/// every path is tested without a broker.
struct ConnectionStateMachine {
    typealias Instant = ContinuousClock.Instant

    enum State: Equatable {
        case idle
        /// `attempt` 0 is the first connect; later ones are recoveries, down since `downSince`.
        case connecting(attempt: Int, downSince: Instant?)
        case connected
        case waitingToReconnect(attempt: Int, until: Instant, downSince: Instant)
        case closed(AMQPError?)
    }

    enum Action: Equatable {
        case openConnection
        /// The first connect succeeded: hand the connection to its caller.
        case reportConnected
        /// A reconnect succeeded: reopen channels, restore QoS and confirm mode, redeclare the
        /// topology, re-register consumers and republish what was not confirmed.
        case restoreSession
        /// The first connect failed: its caller gets the error and nothing is retried.
        case failConnect(AMQPError)
        /// Keep pending work and try again at that time.
        case waitToReconnect(until: Instant)
        /// No recovery: fail everything pending with this error and stop.
        case failEverything(AMQPError)
        /// The application asked to close: close politely, then fail what is left as closed.
        case closeConnection
        case none
    }

    private(set) var state: State = .idle
    let policy: AMQPRecoveryPolicy

    init(policy: AMQPRecoveryPolicy) {
        self.policy = policy
    }

    var isConnected: Bool { state == .connected }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    mutating func start() -> Action {
        guard state == .idle else { return .none }
        state = .connecting(attempt: 0, downSince: nil)
        return .openConnection
    }

    mutating func connectSucceeded() -> Action {
        guard case .connecting(let attempt, _) = state else { return .none }
        state = .connected
        return attempt == 0 ? .reportConnected : .restoreSession
    }

    mutating func connectFailed(_ error: AMQPError, now: Instant) -> Action {
        guard case .connecting(let attempt, let downSince) = state else { return .none }
        guard attempt > 0, let downSince else {
            state = .closed(error)
            return .failConnect(error)
        }
        return scheduleRetry(attempt: attempt + 1, downSince: downSince, lastError: error, now: now)
    }

    /// The connection broke, or the broker closed it, while it was in use.
    mutating func connectionLost(_ error: AMQPError, now: Instant) -> Action {
        guard state == .connected else { return .none }
        guard policy.enabled, error.isRecoverableByReconnecting else {
            state = .closed(error)
            return .failEverything(error)
        }
        return scheduleRetry(attempt: 1, downSince: now, lastError: error, now: now)
    }

    mutating func reconnectDue(now: Instant) -> Action {
        guard case .waitingToReconnect(let attempt, let until, let downSince) = state, now >= until else {
            return .none
        }
        state = .connecting(attempt: attempt, downSince: downSince)
        return .openConnection
    }

    mutating func closeRequested() -> Action {
        switch state {
        case .closed:
            return .none
        case .connected:
            state = .closed(nil)
            return .closeConnection
        case .idle, .connecting, .waitingToReconnect:
            state = .closed(nil)
            return .failEverything(AMQPError(.closedByApplication, "the connection was closed"))
        }
    }

    private mutating func scheduleRetry(
        attempt: Int, downSince: Instant, lastError: AMQPError, now: Instant
    ) -> Action {
        if let limit = policy.giveUpAfter, now - downSince >= limit {
            let error = AMQPError(
                .recoveryGaveUp,
                "no reconnect succeeded within \(limit); last error: \(lastError)")
            state = .closed(error)
            return .failEverything(error)
        }
        let until = now + policy.delay(beforeAttempt: attempt)
        state = .waitingToReconnect(attempt: attempt, until: until, downSince: downSince)
        return .waitToReconnect(until: until)
    }
}
