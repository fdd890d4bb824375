import Foundation
import GovBusContracts
import CoreTestFixtures
import Testing

@testable import GovBusCore

@Suite("Process manager with its SQLite store, without a broker")
struct ProcessManagerTests {
    typealias Fixture = DossierProcessTests

    static func storePath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dossiers-\(UUID().uuidString).sqlite").path
    }

    let now = CoreFixtures.now
    let fixture = DossierProcessTests()

    func submit(_ manager: ProcessManager) throws -> ProcessManager.Handled {
        try manager.handle(
            type: DossierSubmittedV1.messageType, body: try CoreFixtures.dossier.jsonBody(), messageID: "m-submitted",
            sender: "portal", at: now)
    }

    @Test("A dossier goes from submission to completion; each step's messages come out")
    func wholeWay() throws {
        let manager = try ProcessManager(storePath: Self.storePath(), procedures: CoreFixtures.procedures())
        var handled = try submit(manager)
        #expect(handled.outputs.map(\.type) == [DossierStatusChangedV1.messageType, IdentityVerificationRequestedV1.messageType])
        #expect(handled.outputs.allSatisfy { $0.correlationID == "H01.04-251121-0007" && $0.causationID == "m-submitted" })
        handled = try manager.handle(type: IdentityVerifiedV1.messageType, body: try fixture.verified.jsonBody(), messageID: "m-2", sender: "registry", at: now)
        #expect(handled.outputs.map(\.type).contains(FeeRequestedV1.messageType))
        handled = try manager.handle(type: FeePaidV1.messageType, body: try fixture.paid.jsonBody(), messageID: "m-3", sender: "registry", at: now)
        #expect(handled.outputs.map(\.type).contains(DocumentIssueRequestedV1.messageType))
        handled = try manager.handle(type: DocumentIssuedV1.messageType, body: try fixture.issued.jsonBody(), messageID: "m-4", sender: "registry", at: now)
        #expect(handled.state == "completed")
        #expect(try manager.countsByState() == ["completed": 1])
    }

    @Test("A message handled again repeats its transition's messages with the same ids")
    func replay() throws {
        let path = Self.storePath()
        let first = try submit(try ProcessManager(storePath: path, procedures: CoreFixtures.procedures()))
        // A new manager on the same file, as after a crash and restart.
        let again = try submit(try ProcessManager(storePath: path, procedures: CoreFixtures.procedures()))
        #expect(again.outputs == first.outputs)
        #expect(Set(first.outputs.map(\.messageID)).count == first.outputs.count)
    }

    @Test("Step timers ask again with new ids, then put the dossier in needs attention")
    func timers() throws {
        let manager = try ProcessManager(storePath: Self.storePath(), procedures: CoreFixtures.procedures())
        let submitted = try submit(manager)
        #expect(try manager.fireDueTimers(at: now.addingTimeInterval(30)).isEmpty)
        let secondAsk = try manager.fireDueTimers(at: now.addingTimeInterval(121))
        #expect(secondAsk.map(\.type) == [IdentityVerificationRequestedV1.messageType])
        #expect(!submitted.outputs.map(\.messageID).contains(secondAsk[0].messageID))
        _ = try manager.fireDueTimers(at: now.addingTimeInterval(121 * 2 + 1))
        let last = try manager.fireDueTimers(at: now.addingTimeInterval(121 * 3 + 2))
        #expect(last.map(\.type) == [DossierStatusChangedV1.messageType])
        let status = try DossierStatusChangedV1(jsonBody: last[0].body)
        #expect(status.status == .needsAttention)
        #expect(try manager.snapshot(of: "H01.04-251121-0007")?.state.name == "needs-attention")
        #expect(try manager.fireDueTimers(at: now.addingTimeInterval(100_000)).isEmpty)
    }

    @Test("After an operator's retry, the step's timers count again from attempt 1 and time out again")
    func timersAfterOperatorRetry() throws {
        let manager = try ProcessManager(storePath: Self.storePath(), procedures: CoreFixtures.procedures())
        _ = try submit(manager)
        for round in 1...3 { _ = try manager.fireDueTimers(at: now.addingTimeInterval(121 * Double(round) + Double(round))) }
        #expect(try manager.snapshot(of: "H01.04-251121-0007")?.state.name == "needs-attention")
        let retried = try manager.operatorDecided(
            "H01.04-251121-0007", retry: true, reason: nil, actionID: "op-1", at: now.addingTimeInterval(1000))
        #expect(retried.state == "awaiting-identity")
        // Attempt 1 again, at a new time: a new transition, not the first round's repeated.
        let asked = try manager.fireDueTimers(at: now.addingTimeInterval(1000 + 121))
        #expect(asked.map(\.type) == [IdentityVerificationRequestedV1.messageType])
        #expect(!retried.outputs.map(\.messageID).contains(asked[0].messageID))
        _ = try manager.fireDueTimers(at: now.addingTimeInterval(1000 + 121 * 2 + 1))
        let last = try manager.fireDueTimers(at: now.addingTimeInterval(1000 + 121 * 3 + 2))
        #expect(last.map(\.type) == [DossierStatusChangedV1.messageType])
        #expect(try manager.snapshot(of: "H01.04-251121-0007")?.state.name == "needs-attention")
    }

    @Test("A late reply is recorded and changes nothing; an unknown procedure is an error")
    func lateAndUnknown() throws {
        let manager = try ProcessManager(storePath: Self.storePath(), procedures: CoreFixtures.procedures())
        _ = try submit(manager)
        let late = try manager.handle(type: DocumentIssuedV1.messageType, body: try fixture.issued.jsonBody(), messageID: "m-late", sender: "registry", at: now)
        #expect(late.outputs.isEmpty)
        #expect(late.ignoredBecause?.contains("awaiting-identity") == true)
        #expect(late.state == "awaiting-identity")

        var other = CoreFixtures.dossier
        other.dossierId = "H01.04-251121-0099"
        other.procedure = Procedure(code: "9.999999", name: "Unknown")
        #expect(throws: ProcessManager.Refusal.self) {
            try manager.handle(type: DossierSubmittedV1.messageType, body: try other.jsonBody(), messageID: "m-x", sender: "registry", at: now)
        }
    }
}
