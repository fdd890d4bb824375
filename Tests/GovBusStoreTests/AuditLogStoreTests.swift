import Foundation
@testable import GovBusStore
import StoreTesting
import Testing

@Suite("Audit log on each backend")
struct AuditLogStoreTests {
    func entry(_ index: Int, dossier: String = "G22.99-251121-0001", sender: String = "portal") -> AuditLog.Entry {
        AuditLog.Entry(
            messageID: "message-\(index)", type: "portal.dossier.submitted.v1", sender: sender, receivers: ["registry", "core"],
            correlationID: dossier, body: Data("{\"n\":\(index)}".utf8), signature: "signature-\(index)")
    }

    @Test("Records chain in order and verify; lookups by dossier, sender and number", arguments: TestStore.allCases)
    func chain(_ backend: TestStore) async throws {
        let log = try AuditLog(try await backend.make())
        try log.append((1...3).map { entry($0) })
        try log.append([entry(4, dossier: "G22.99-251121-0002", sender: "payment")])
        let result = try log.verify()
        #expect(result == AuditLog.VerificationResult(records: 4, firstBroken: nil))
        let records = try log.records(correlationID: "G22.99-251121-0001")
        #expect(records.map(\.sequence) == [1, 2, 3])
        #expect(records[0].previousHash == AuditRecord.genesis)
        #expect(records[1].previousHash == records[0].hash)
        #expect(records[0].receivers == ["registry", "core"])
        #expect(records[0].body == Data("{\"n\":1}".utf8))
        #expect(records[0].recomputedHash == records[0].hash)
        let head = try log.head()
        #expect(head.sequence == 4)
        #expect(try log.hashes(of: [2, 4, 9]) == [2: records[1].hash, 4: head.hash])
        let recorded = try log.recorded(among: [
            MessageKey(sender: "portal", messageID: "message-1"), MessageKey(sender: "payment", messageID: "message-1"),
        ])
        #expect(recorded == [MessageKey(sender: "portal", messageID: "message-1")])
        #expect(try log.record(messageID: "message-4", sentBy: "payment")?.sequence == 4)
        #expect(try log.lastRecord(type: "portal.dossier.submitted.v1", sentBy: "portal")?.sequence == 3)
    }

    @Test("The database refuses a change or a removal; only a body past retention may go", arguments: TestStore.allCases)
    func appendOnly(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let log = try AuditLog(location)
        try log.append((1...3).map { entry($0) })
        let raw = try StoreDatabase(location, name: "audit", migrations: [])
        #expect(throws: StoreError.self) {
            try raw.write { try $0.execute("UPDATE audit_record SET type = 'forged' WHERE sequence = 2", []) }
        }
        #expect(throws: StoreError.self) {
            try raw.write { try $0.execute("DELETE FROM audit_record WHERE sequence = 3", []) }
        }
        #expect(try log.removeBodies(recordedBefore: Date().addingTimeInterval(60)) == 3)
        #expect(try log.records(correlationID: "G22.99-251121-0001").allSatisfy { $0.body == nil })
        #expect(try log.verify().firstBroken == nil)
    }

    @Test("Two writers append at once: one chain, every record once, in one order", arguments: TestStore.allCases)
    func concurrentWriters(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let first = try AuditLog(location)
        let second = try AuditLog(location)
        await withTaskGroup(of: Void.self) { group in
            for (writer, log) in [first, second].enumerated() {
                group.addTask {
                    for batch in 0..<20 {
                        _ = try? log.append((0..<5).map { self.entry(writer * 1000 + batch * 10 + $0) })
                    }
                }
            }
        }
        let result = try first.verify()
        #expect(result == AuditLog.VerificationResult(records: 200, firstBroken: nil))
        #expect(try second.head().sequence == 200)
    }

    @Test("Counts for the console: by sender, by receiver, per minute", arguments: TestStore.allCases)
    func counts(_ backend: TestStore) async throws {
        let log = try AuditLog(try await backend.make())
        let now = Date()
        try log.append((1...3).map { entry($0) }, at: now.addingTimeInterval(-7200))
        try log.append((4...5).map { entry($0) }, at: now)
        try log.append([entry(6, sender: "payment")], at: now)
        #expect(try log.count(sentBy: "portal", since: now.addingTimeInterval(-3600), excluding: "adapter.heartbeat.v1") == 2)
        #expect(try log.count(receivedBy: "registry", since: now.addingTimeInterval(-3600)) == 3)
        #expect(try log.count(receivedBy: "regis", since: now.addingTimeInterval(-3600)) == 0)
        let minutes = try log.countsPerMinute(by: .type, since: now.addingTimeInterval(-3600), excluding: "none")
        #expect(minutes.map(\.count).reduce(0, +) == 3)
        let senders = try log.countsPerMinute(by: .sender, since: now.addingTimeInterval(-3600), excluding: "none")
        #expect(Dictionary(senders.map { ($0.key, $0.count) }, uniquingKeysWith: +) == ["portal": 2, "payment": 1])
        #expect(minutes.allSatisfy { $0.minute.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0 })
    }
}
