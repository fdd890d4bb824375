import Foundation
@testable import GovBusStore
import StoreTesting
import Testing

@Suite("Ledger and dead-letter archive on each backend")
struct LedgerAndDeadLetterTests {
    @Test("A message is handled once per sender, whoever marks it again", arguments: TestStore.allCases)
    func ledger(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let ledger = try MessageLedger(location)
        let portal = MessageKey(sender: "portal", messageID: "m1")
        let payment = MessageKey(sender: "payment", messageID: "m1")
        try ledger.markHandled([portal])
        try MessageLedger(location).markHandled([portal])
        #expect(try ledger.handled(among: [portal, payment]) == [portal])
    }

    @Test("Letters are kept, filtered and marked", arguments: TestStore.allCases)
    func deadLetters(_ backend: TestStore) async throws {
        let archive = try DeadLetterStore(try await backend.make())
        let first = try archive.add(
            DeadLetterStore.Letter(
                messageID: "m1", type: "payment.fee.paid.v1", sender: "payment", correlationID: "D1", check: "schema",
                reason: "bad", at: Date(), attempts: 1, origin: "govbus.core.ingress", properties: Data("{}".utf8),
                body: Data("{\"a\":1}".utf8)))
        _ = try archive.add(
            DeadLetterStore.Letter(
                messageID: "m2", type: "portal.dossier.submitted.v1", sender: "portal", correlationID: "D2", check: "signature",
                reason: "forged", at: Date(), attempts: 2, origin: "govbus.adapter.portal", properties: Data("{}".utf8),
                body: Data()))
        #expect(try archive.waitingCount() == 2)
        #expect(try archive.list(DeadLetterStore.Filter(sender: "payment")).map(\.messageID) == ["m1"])
        try archive.mark(first, status: .discarded)
        #expect(try archive.waitingCount() == 1)
        #expect(try archive.letter(first)?.status == .discarded)
        #expect(try archive.letter(first)?.body == Data("{\"a\":1}".utf8))
        #expect(try archive.list(DeadLetterStore.Filter(status: nil)).map(\.messageID) == ["m2", "m1"])
    }

    @Test("A store location reads as SQLite or PostgreSQL, and says what is wrong with a bad one")
    func locations() throws {
        let postgres = try StoreLocation("postgres://govbus:s%40cret@db.example:6543/bus")
        guard case .postgres(let address) = postgres else {
            Issue.record("not PostgreSQL: \(postgres)")
            return
        }
        #expect(address.password == "s@cret")
        #expect(address.port == 6543)
        #expect(postgres.description == "postgres://govbus@db.example:6543/bus")
        #expect(try StoreLocation("data", relativeTo: URL(fileURLWithPath: "/srv/govbus/config/")) == .sqlite(folder: URL(fileURLWithPath: "/srv/govbus/config/data")))
        #expect(throws: StoreError.self) { try StoreLocation("postgres://govbus@db.example") }
        #expect(throws: StoreError.self) { try StoreLocation("mysql://govbus@db.example/bus") }
        #expect(throws: StoreError.self) { try StoreLocation("postgres://govbus:pw@db.example/bus?sslmode=require") }
    }
}
