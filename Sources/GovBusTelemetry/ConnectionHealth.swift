package import AMQP
import Synchronization

/// Whether a process's broker connection is up, for `/health`.
package final class ConnectionHealth: Sendable {
    private let state = Mutex<String?>(nil)

    package init() {}

    package func follow(_ events: AsyncStream<AMQPConnectionEvent>) async {
        state.withLock { $0 = nil }
        for await event in events {
            state.withLock { state in
                switch event {
                case .connected, .recovered, .unblocked: state = nil
                case .disconnected(let error): state = "broker connection lost: \(error)"
                case .blocked(let reason): state = "the broker blocks publishing: \(reason)"
                case .closed: state = "broker connection closed"
                }
            }
        }
    }

    package var report: HealthReport {
        let problem = state.withLock { $0 }
        return HealthReport(healthy: problem == nil, details: problem.map { ["problem": $0] } ?? ["broker": "connected"])
    }
}
