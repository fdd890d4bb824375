import AMQP
import AMQPTesting
import Foundation
import Glibc
import Testing

@Suite("Network cuts and missed heartbeats")
struct HeartbeatTests {
    static let proxyScript = TestBroker.repositoryRoot
        .appendingPathComponent("Tests/AMQPTests/Interop/freezable_proxy.py").path

    /// A freezable proxy in front of the test broker, and the URL that goes through it.
    static func startProxy() async throws -> (ChildProcess.Running, String) {
        let broker = try TestBroker.fromEnvironment()
        let brokerPort = try #require(URLComponents(string: broker.amqpURL)?.port)
        let proxy = try ChildProcess.start("/usr/bin/env", ["python3", proxyScript, "\(brokerPort)"])
        do {
            return (proxy, "amqp://guest:guest@127.0.0.1:\(try await proxy.line(number: 1))")
        } catch {
            proxy.stop()
            throw error
        }
    }

    /// Cuts (SIGUSR1) or restores (SIGUSR2) the proxy's network, once it says it did.
    static func set(_ proxy: ChildProcess.Running, frozen: Bool, after previousLines: Int) async throws {
        proxy.send(signal: frozen ? SIGUSR1 : SIGUSR2)
        let said = try await proxy.line(number: previousLines + 1)
        #expect(said == (frozen ? "frozen" : "thawed"))
    }

    /// Waits for the first event that `matches`, for up to `limit`.
    static func waitForEvent(
        _ events: AsyncStream<AMQPConnectionEvent>.AsyncIterator, within limit: Duration,
        _ matches: @escaping @Sendable (AMQPConnectionEvent) -> Bool
    ) async throws -> (AMQPConnectionEvent, AsyncStream<AMQPConnectionEvent>.AsyncIterator) {
        nonisolated(unsafe) var iterator = events
        let event = try await withTimeLimit(limit, "waiting for a connection event") {
            while let event = await iterator.next() {
                if matches(event) { return event }
            }
            throw TimeLimitExceeded(description: "the connection's events ended")
        }
        return (event, iterator)
    }

    @Test("A cut network is noticed through missed heartbeats, and the connection recovers when it is back")
    func networkCut() async throws {
        let (proxy, url) = try await Self.startProxy()
        defer { proxy.stop() }
        var configuration = try AMQPConfiguration(url: url)
        configuration.heartbeat = .seconds(1)
        configuration.connectTimeout = .seconds(2)
        configuration.recovery.maximumDelay = .milliseconds(500)
        let connection = try await AMQPConnection.connect(configuration)
        let queue = TestBroker.uniqueName("network-cut")
        try await connection.declare(AMQPQueue(queue))
        var events = connection.events.makeAsyncIterator()

        try await Self.set(proxy, frozen: true, after: 1)  // the cable is cut: nothing flows, nothing is closed
        let cutAt = ContinuousClock.now
        let (lost, afterLoss) = try await Self.waitForEvent(events, within: .seconds(10)) {
            if case .disconnected = $0 { true } else { false }
        }
        events = afterLoss
        guard case .disconnected(let error) = lost else { return }
        #expect(error.kind == .connectionLost)
        #expect(error.message.contains("heartbeat"))
        #expect(ContinuousClock.now - cutAt < .seconds(5))

        // A publish made while the network is down waits and goes through after recovery.
        let publishing = Task {
            try await connection.publish(AMQPMessage("sent while cut"), exchange: "", routingKey: queue)
        }
        try await Task.sleep(for: .seconds(1))
        try await Self.set(proxy, frozen: false, after: 2)  // the cable is back
        _ = try await Self.waitForEvent(events, within: .seconds(20)) { $0 == .recovered }
        try await publishing.value

        let consumer = try await connection.consume(queue: queue)
        let delivery = try await nextDelivery(consumer)
        #expect(delivery.body == Array("sent while cut".utf8))
        delivery.ack()
        await consumer.cancel()
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("While the broker stays out of reach, a waiting publish fails with a timeout; nothing hangs")
    func nothingHangs() async throws {
        let (proxy, url) = try await Self.startProxy()
        defer { proxy.stop() }
        var configuration = try AMQPConfiguration(url: url)
        configuration.heartbeat = .seconds(1)
        configuration.connectTimeout = .seconds(1)
        configuration.publishTimeout = .seconds(3)
        configuration.requestTimeout = .seconds(3)
        // Well past the two 3 s timeouts below, so that a loaded machine does not turn them into a give-up.
        configuration.recovery.giveUpAfter = .seconds(12)
        let connection = try await AMQPConnection.connect(configuration)
        try await Self.set(proxy, frozen: true, after: 1)

        let started = ContinuousClock.now
        await expectAMQPError(.confirmTimeout) {
            try await withTimeLimit(.seconds(10), "a publish while the network is cut") {
                try await connection.publish(AMQPMessage("never confirmed"), exchange: "amq.fanout", routingKey: "")
            }
        }
        await expectAMQPError(.timeout) {
            try await withTimeLimit(.seconds(10), "a declare while the network is cut") {
                try await connection.declare(AMQPExchange(TestBroker.uniqueName("unreachable"), kind: .fanout))
            }
        }
        #expect(ContinuousClock.now - started < .seconds(8))
        // Past the recovery limit, the connection gives up and says why.
        let gaveUp = await expectAMQPError(.recoveryGaveUp) {
            try await withTimeLimit(.seconds(20), "a publish after recovery gave up") {
                try await Task.sleep(for: .seconds(4))
                try await connection.publish(AMQPMessage("too late"), exchange: "amq.fanout", routingKey: "")
            }
        }
        #expect(gaveUp?.message.contains("12") == true)
    }
}
