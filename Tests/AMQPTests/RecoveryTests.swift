import AMQP
import AMQPTesting
import Foundation
import Synchronization
import Testing

@Suite("Recovery after the broker restarts")
struct RecoveryTests {
    /// What the consumer saw, shared with the test.
    final class Received: Sendable {
        private let state = Mutex<(seen: Set<Int>, duplicates: Int)>(([], 0))

        func record(_ index: Int) {
            state.withLock { state in
                if !state.seen.insert(index).inserted { state.duplicates += 1 }
            }
        }

        var snapshot: (seen: Set<Int>, duplicates: Int) { state.withLock { $0 } }
    }

    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { count.load(ordering: .relaxed) }
        func increment() { count.add(1, ordering: .relaxed) }
    }

    static func eventsUntilRecovered(_ connection: AMQPConnection) async -> [AMQPConnectionEvent] {
        var seen: [AMQPConnectionEvent] = []
        for await event in connection.events {
            seen.append(event)
            if event == .recovered { break }
        }
        return seen
    }

    @Test("A restart in the middle of 20,000 confirmed publishes loses nothing that was confirmed")
    func restartDuringPublishing() async throws {
        // A node of its own: restarting the shared one would break the other tests.
        let broker = try await TestBroker.onOwnThread { try TestBroker.startDedicated() }
        defer { try? broker.stop() }
        var configuration = try AMQPConfiguration(url: broker.amqpURL)
        configuration.recovery.maximumDelay = .milliseconds(500)
        configuration.heartbeat = .seconds(5)
        let publisher = try await AMQPConnection.connect(configuration)
        let consumerConnection = try await AMQPConnection.connect(configuration)
        let queue = "recovery-test"
        try await consumerConnection.declare(AMQPQueue(queue, kind: .quorum))

        let received = Received()
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: 256)
        let consuming = Task {
            for try await delivery in consumer {
                received.record(Int(String(decoding: delivery.body, as: UTF8.self))!)
                delivery.ack()
            }
        }
        let publisherEvents = Task { await Self.eventsUntilRecovered(publisher) }
        let consumerEvents = Task { await Self.eventsUntilRecovered(consumerConnection) }

        let total = 20_000
        let confirmedSoFar = Counter()
        let restart = Task.detached {
            while confirmedSoFar.value < total / 4 {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await broker.restart()
        }
        // 64 lanes keep up to 64 publishes waiting for their confirm, as a busy adapter would.
        let lanes = 64
        let outcomes = try await withThrowingTaskGroup(of: (confirmed: [Int], failed: [String]).self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    var confirmed: [Int] = []
                    var failed: [String] = []
                    for index in stride(from: lane, to: total, by: lanes) {
                        do {
                            try await publisher.publish(
                                AMQPMessage("\(index)", properties: AMQPProperties(deliveryMode: .persistent)),
                                exchange: "", routingKey: queue)
                            confirmed.append(index)
                            confirmedSoFar.increment()
                        } catch {
                            failed.append("\(index): \(error)")
                        }
                    }
                    return (confirmed, failed)
                }
            }
            var confirmed = Set<Int>()
            var failed: [String] = []
            for try await lane in group {
                confirmed.formUnion(lane.confirmed)
                failed += lane.failed
            }
            return (confirmed: confirmed, failed: failed)
        }
        try await restart.value

        // Every confirmed message must arrive; give the consumer time to drain the queue.
        let deadline = ContinuousClock.now + .seconds(60)
        while !outcomes.confirmed.isSubset(of: received.snapshot.seen), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let (seen, duplicates) = received.snapshot
        let lost = outcomes.confirmed.subtracting(seen)
        print(
            "recovery: \(outcomes.confirmed.count) confirmed, \(outcomes.failed.count) publishes failed, \(seen.count) distinct received, \(duplicates) duplicates, \(lost.count) lost")
        #expect(lost.isEmpty, "confirmed but never received: \(lost.sorted().prefix(20))")
        #expect(outcomes.confirmed.count + outcomes.failed.count == total)
        #expect(outcomes.failed.isEmpty, "failed publishes: \(outcomes.failed.prefix(5))")

        let publisherSaw = await publisherEvents.value
        let consumerSaw = await consumerEvents.value
        for events in [publisherSaw, consumerSaw] {
            #expect(events.contains { if case .disconnected = $0 { true } else { false } })
            #expect(events.last == .recovered)
        }

        consuming.cancel()
        await publisher.close()
        await consumerConnection.close()
    }
}
