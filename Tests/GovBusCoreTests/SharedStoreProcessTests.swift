import Foundation
import GovBusContracts
import GovBusStore
import StoreTesting
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// Several cores on one store, without a broker: each core is a process manager of its own.
@Suite("Process managers that share a store")
struct SharedStoreProcessTests {
    let now = CoreFixtures.now

    func dossiers(_ count: Int) -> [DossierSubmittedV1] {
        (1...count).map { index in
            var dossier = CoreFixtures.dossier
            dossier.dossierId = String(format: "H01.04-251121-%04d", index)
            return dossier
        }
    }

    @Test("A step timer fires once across two cores firing at the same time", arguments: TestStore.allCases)
    func timerFiresOnce(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let procedures = try CoreFixtures.procedures()
        let cores = [
            ProcessManager(store: try DossierStore(location), procedures: procedures),
            ProcessManager(store: try DossierStore(location), procedures: procedures),
        ]
        let submitted = dossiers(30)
        for dossier in submitted {
            _ = try cores[0].handle(
                type: DossierSubmittedV1.messageType, body: try dossier.jsonBody(), messageID: "submit-\(dossier.dossierId)",
                sender: "portal", at: now)
        }
        // Both cores look for due timers at once, again and again, as their timer loops do.
        let fired = await withTaskGroup(of: [OutgoingMessage].self) { group in
            for core in cores {
                group.addTask {
                    var outputs: [OutgoingMessage] = []
                    for _ in 0..<5 { outputs += (try? core.fireDueTimers(at: self.now.addingTimeInterval(121))) ?? [] }
                    return outputs
                }
            }
            var all: [OutgoingMessage] = []
            for await outputs in group { all += outputs }
            return all
        }
        // Each dossier's identity step asked again exactly once: one message, one transition.
        #expect(fired.count == submitted.count)
        #expect(Set(fired.map(\.correlationID)).count == submitted.count)
        #expect(fired.allSatisfy { $0.type == IdentityVerificationRequestedV1.messageType })
        for dossier in submitted {
            let transitions = try cores[1].transitions(of: dossier.dossierId)
            #expect(transitions.count == 2, "\(dossier.dossierId): \(transitions.map(\.transition.causeMessageID))")
        }
    }

    @Test("Two cores handling the same dossier's messages at once: one transition each, none lost", arguments: TestStore.allCases)
    func raceOnOneDossier(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let procedures = try CoreFixtures.procedures()
        let cores = [
            ProcessManager(store: try DossierStore(location), procedures: procedures),
            ProcessManager(store: try DossierStore(location), procedures: procedures),
        ]
        let dossier = CoreFixtures.dossier
        // The same submission reaches both (a partition moved while it was in hand).
        let results = await withTaskGroup(of: ProcessManager.Handled?.self) { group in
            for core in cores {
                group.addTask {
                    try? core.handle(
                        type: DossierSubmittedV1.messageType, body: try dossier.jsonBody(), messageID: "m-1", sender: "portal",
                        at: self.now)
                }
            }
            var all: [ProcessManager.Handled] = []
            for await result in group { if let result { all.append(result) } }
            return all
        }
        #expect(results.count == 2)
        // Both return the one transition's messages, with the same ids.
        #expect(results[0].outputs == results[1].outputs)
        #expect(try cores[0].transitions(of: dossier.dossierId).count == 1)
    }
}
