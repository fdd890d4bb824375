@testable import AMQP
import Testing

@Suite("Connection state machine, without a broker")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    let lost = AMQPError(.connectionClosed, "CONNECTION_FORCED - broker forced connection closure", replyCode: 320)
    let refused = AMQPError(.hostUnreachable, "connection refused")
    let policy = AMQPRecoveryPolicy(
        initialDelay: .milliseconds(100), maximumDelay: .seconds(1), giveUpAfter: .seconds(10))

    func connected() -> Machine {
        var machine = Machine(policy: policy)
        _ = machine.start()
        _ = machine.connectSucceeded()
        return machine
    }

    @Test("First connect: open, then hand over")
    func firstConnect() {
        var machine = Machine(policy: policy)
        #expect(machine.start() == .openConnection)
        #expect(machine.start() == .none)
        #expect(machine.connectSucceeded() == .reportConnected)
        #expect(machine.isConnected)
    }

    @Test("A failed first connect is reported, not retried")
    func firstConnectFails() {
        var machine = Machine(policy: policy)
        _ = machine.start()
        let error = AMQPError(.authenticationFailed, "wrong password")
        #expect(machine.connectFailed(error, now: .now) == .failConnect(error))
        #expect(machine.state == .closed(error))
    }

    @Test("A dropped connection waits, reconnects and restores")
    func recovers() {
        var machine = connected()
        let now = ContinuousClock.now
        #expect(machine.connectionLost(lost, now: now) == .waitToReconnect(until: now + .milliseconds(100)))
        #expect(machine.reconnectDue(now: now + .milliseconds(50)) == .none)
        #expect(machine.reconnectDue(now: now + .milliseconds(100)) == .openConnection)
        #expect(machine.connectSucceeded() == .restoreSession)
        #expect(machine.isConnected)
    }

    @Test("Backoff doubles up to its cap between failed attempts")
    func backoff() {
        var machine = connected()
        var now = ContinuousClock.now
        _ = machine.connectionLost(lost, now: now)
        var delays: [Duration] = []
        for _ in 0..<6 {
            guard case .waitingToReconnect(_, let until, _) = machine.state else {
                Issue.record("not waiting: \(machine.state)")
                return
            }
            delays.append(until - now)
            now = until
            #expect(machine.reconnectDue(now: now) == .openConnection)
            _ = machine.connectFailed(refused, now: now)
        }
        #expect(
            delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test("Recovery gives up after its limit and fails everything")
    func givesUp() {
        var machine = connected()
        let start = ContinuousClock.now
        _ = machine.connectionLost(lost, now: start)
        _ = machine.reconnectDue(now: start + .seconds(1))
        let action = machine.connectFailed(refused, now: start + .seconds(11))
        guard case .failEverything(let error) = action else {
            Issue.record("expected failEverything, got \(action)")
            return
        }
        #expect(error.kind == .recoveryGaveUp)
        #expect(error.message.contains("connection refused"))
        #expect(machine.isClosed)
    }

    @Test("Without recovery, or for an error a reconnect cannot cure, the loss is final")
    func noRecovery() {
        var disabled = Machine(policy: AMQPRecoveryPolicy(enabled: false))
        _ = disabled.start()
        _ = disabled.connectSucceeded()
        #expect(disabled.connectionLost(lost, now: .now) == .failEverything(lost))

        var machine = connected()
        let refusedAccess = AMQPError(.accessRefused, "permissions revoked", replyCode: 403)
        #expect(machine.connectionLost(refusedAccess, now: .now) == .failEverything(refusedAccess))
    }

    @Test("Closing: polite when connected, immediate while waiting, once only")
    func closing() {
        var machine = connected()
        #expect(machine.closeRequested() == .closeConnection)
        #expect(machine.closeRequested() == .none)
        #expect(machine.connectionLost(lost, now: .now) == .none)

        var waiting = connected()
        _ = waiting.connectionLost(lost, now: .now)
        guard case .failEverything(let error) = waiting.closeRequested() else {
            Issue.record("expected failEverything")
            return
        }
        #expect(error.kind == .closedByApplication)
        #expect(waiting.reconnectDue(now: .now + .seconds(5)) == .none)
    }

    @Test("Events that do not fit the state change nothing")
    func strayEvents() {
        var machine = Machine(policy: policy)
        #expect(machine.connectSucceeded() == .none)
        #expect(machine.connectionLost(lost, now: .now) == .none)
        #expect(machine.reconnectDue(now: .now) == .none)
        #expect(machine.state == .idle)
    }
}
