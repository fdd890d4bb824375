@testable import GovBusStore
import AMQPTesting
import Foundation
import GRDB
import Testing

@testable import GovBusCore

@Suite("Audit log")
struct AuditLogTests {
    func makeLog(records: Int = 5) throws -> (AuditLog, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).sqlite").path
        let log = try AuditLog(path: path)
        for index in 1...records {
            try log.append(
                messageID: UUID().uuidString.lowercased(), type: "portal.dossier.submitted.v1", sender: "portal",
                receivers: ["core"], correlationID: "G22.99-251121-000\(index % 2)",
                body: Data("{\"n\":\(index)}".utf8), signature: "c2lnbmF0dXJl")
        }
        return (log, path)
    }

    /// Opens the file as an attacker would, without the log's triggers.
    func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS audit_record_no_update; DROP TRIGGER IF EXISTS audit_record_no_delete")
            try db.execute(sql: sql)
        }
    }

    @Test("An untouched log verifies; records are chained in order")
    func intact() throws {
        let (log, _) = try makeLog()
        let result = try log.verify()
        #expect(result.records == 5)
        #expect(result.firstBroken == nil)
        let dossier = try log.records(correlationID: "G22.99-251121-0001")
        #expect(dossier.map(\.sequence) == [1, 3, 5])
        #expect(dossier[0].previousHash == AuditRecord.genesis)
    }

    @Test("The log refuses updates and deletes through SQL")
    func appendOnly() throws {
        let (_, path) = try makeLog()
        let queue = try DatabaseQueue(path: path)
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "UPDATE audit_record SET sender = 'mallory' WHERE sequence = 2") }
        }
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "DELETE FROM audit_record WHERE sequence = 2") }
        }
    }

    @Test("Bodies past their retention go; the chain still verifies")
    func retention() throws {
        let (log, _) = try makeLog()
        #expect(try log.removeBodies(recordedBefore: Date().addingTimeInterval(60)) == 5)
        #expect(try log.verify().firstBroken == nil)
        #expect(try log.records(correlationID: "G22.99-251121-0001").allSatisfy { $0.body == nil })
    }

    @Test("An edited record is found, by its number")
    func editedRecord() throws {
        let (log, path) = try makeLog()
        try tamper(path, "UPDATE audit_record SET sender = 'payment' WHERE sequence = 3")
        let broken = try #require(try log.verify().firstBroken)
        #expect(broken.sequence == 3)
        #expect(broken.reason.contains("changed"))
    }

    @Test("A record rewritten with a fresh hash breaks the link of the next one")
    func rehashedRecord() throws {
        let (log, path) = try makeLog()
        try tamper(path, "UPDATE audit_record SET hash = 'f00d', type = 'payment.fee.paid.v1' WHERE sequence = 2")
        let broken = try #require(try log.verify().firstBroken)
        #expect(broken.sequence == 2)
    }

    @Test("A removed record and an edited body are found")
    func removedAndBody() throws {
        let (log, path) = try makeLog()
        try tamper(path, "DELETE FROM audit_record WHERE sequence = 4")
        #expect(try log.verify().firstBroken?.sequence == 4)

        let (other, otherPath) = try makeLog()
        try tamper(otherPath, "UPDATE audit_record SET body = CAST('{\"n\":999}' AS BLOB) WHERE sequence = 2")
        let broken = try #require(try other.verify().firstBroken)
        #expect(broken.sequence == 2)
        #expect(broken.reason.contains("body"))
    }
}

@Suite("govbus audit verify")
struct AuditVerifyCommandTests {
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/govbus").path

    func verify(_ path: String) async throws -> (Int32, String) {
        let outcome = try await TestBroker.execute(Self.binary, ["audit", "verify", "--database", path])
        return (outcome.status, outcome.output)
    }

    @Test("Exit 0 for an intact log, 1 naming the broken record")
    func exitStatus() async throws {
        let tests = AuditLogTests()
        let (_, path) = try tests.makeLog()
        var (status, output) = try await verify(path)
        #expect(status == 0)
        #expect(output.contains("intact, 5 records"))
        try tests.tamper(path, "UPDATE audit_record SET correlation_id = 'X' WHERE sequence = 4")
        (status, output) = try await verify(path)
        #expect(status == 1)
        #expect(output.contains("record 4"))
    }
}
