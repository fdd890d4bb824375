import Foundation
import GovBusContracts
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// A dossier's trace context, with traces off (what every test process has): the one it was
/// submitted in goes with everything the core sends for it, whatever caused that.
@Suite("A dossier's trace, kept by the process manager")
struct DossierTraceTests {
    let now = CoreFixtures.now
    let fixture = DossierProcessTests()
    let submittedIn = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    let dossier = "H01.04-251121-0007"

    func submitted() throws -> ProcessManager {
        let manager = try ProcessManager(storePath: ProcessManagerTests.storePath(), procedures: CoreFixtures.procedures())
        let handled = try manager.handle(
            type: DossierSubmittedV1.messageType, body: try CoreFixtures.dossier.jsonBody(), messageID: "m-submitted",
            sender: "portal", trace: submittedIn, at: now)
        #expect(handled.outputs.allSatisfy { $0.traceparent == submittedIn })
        #expect(try manager.snapshot(of: dossier)?.traceparent == submittedIn)
        return manager
    }

    @Test("A step timer's messages go on in the trace the dossier was submitted in")
    func timer() throws {
        let manager = try submitted()
        let asked = try manager.fireDueTimers(at: now.addingTimeInterval(121))
        #expect(asked.map(\.type) == [IdentityVerificationRequestedV1.messageType])
        #expect(asked.allSatisfy { $0.traceparent == submittedIn })
    }

    @Test("An operator's decision goes on in the dossier's trace")
    func operatorDecision() throws {
        let manager = try submitted()
        let rejected = try manager.operatorDecided(dossier, retry: false, reason: "test", actionID: "op-1", at: now)
        #expect(!rejected.outputs.isEmpty && rejected.outputs.allSatisfy { $0.traceparent == submittedIn })
    }

    @Test("An answer in the same trace carries its own context on; one in another trace (a callback) goes on in the dossier's, which it names")
    func answers() throws {
        let manager = try submitted()
        let sameTrace = "00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01"
        let verified = try manager.handle(
            type: IdentityVerifiedV1.messageType, body: try fixture.verified.jsonBody(), messageID: "m-2", sender: "registry",
            trace: sameTrace, at: now)
        #expect(verified.outputs.allSatisfy { $0.traceparent == sameTrace })
        #expect(verified.dossierTrace == nil)
        let callback = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let paid = try manager.handle(
            type: FeePaidV1.messageType, body: try fixture.paid.jsonBody(), messageID: "m-3", sender: "payment", trace: callback,
            at: now)
        #expect(!paid.outputs.isEmpty && paid.outputs.allSatisfy { $0.traceparent == submittedIn })
        #expect(paid.dossierTrace == submittedIn)
        let untraced = try manager.handle(
            type: DocumentIssuedV1.messageType, body: try fixture.issued.jsonBody(), messageID: "m-4", sender: "document", at: now)
        #expect(untraced.outputs.allSatisfy { $0.traceparent == submittedIn })
        #expect(untraced.completion?.procedure == CoreFixtures.dossier.procedure.code)
    }
}
