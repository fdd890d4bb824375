import Foundation
import Synchronization
import Testing

@testable import GovBusAdapterKit

@Suite("The outbox's group commit: writes that meet share a transaction, each answered for itself")
struct OutboxGroupCommitTests {
    @Test("concurrent writers each get their own outcome, in fewer transactions than writes")
    func sharesTransactions() async throws {
        let transactions = Mutex(0)
        let group = GroupCommit<Int, Int>(label: "test") { batch in
            transactions.withLock { $0 += 1 }
            // A sync's worth of time, during which more writers arrive.
            usleep(2_000)
            return batch.map { $0 * 10 }
        }
        let writers = 200
        let outcomes = await withTaskGroup(of: (Int, Int).self) { tasks in
            for index in 0..<writers {
                tasks.addTask { (index, (try? await group.write(index)) ?? -1) }
            }
            var outcomes: [Int: Int] = [:]
            for await (index, outcome) in tasks { outcomes[index] = outcome }
            return outcomes
        }
        #expect(outcomes.count == writers)
        for (index, outcome) in outcomes { #expect(outcome == index * 10) }
        #expect(transactions.withLock { $0 } < writers)
    }

    @Test("a failed transaction fails every write in it, and the next one commits")
    func failureReachesEveryWriter() async throws {
        let failing = Mutex(true)
        let group = GroupCommit<String, Bool>(label: "test") { batch in
            if failing.withLock({ $0 }) { throw CancellationError() }
            return batch.map { _ in true }
        }
        await #expect(throws: CancellationError.self) { try await group.write("a") }
        failing.withLock { $0 = false }
        #expect(try await group.write("b"))
    }

    @Test("the outbox keeps a message id once and an inbox record once, across a reopen")
    func outboxAcrossReopen() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("outbox.sqlite").path
        do {
            let outbox = try Outbox(path: path)
            #expect(try await outbox.store(messageID: "m1", type: "t", correlationID: "d", causationID: nil, body: Data("{}".utf8)))
            #expect(try await !outbox.store(messageID: "m1", type: "t", correlationID: "d", causationID: nil, body: Data("{}".utf8)))
            try await outbox.markHandled(inboxMessage: "i1")
            try await outbox.markHandled(inboxMessage: "i1")
        }
        let reopened = try Outbox(path: path)
        #expect(try reopened.pending().map(\.messageID) == ["m1"])
        #expect(try reopened.wasHandled(inboxMessage: "i1"))
        #expect(try !reopened.wasHandled(inboxMessage: "i2"))
    }
}
