import Foundation
@testable import GovBusStore
import StoreTesting
import Testing

@Suite("Dossier store on each backend")
struct DossierStoreTests {
    func change(
        _ dossier: String, version: Int64?, cause: String, state: String = "awaiting-identity",
        timers: [DossierStore.TimerChange] = []
    ) -> DossierStore.Change {
        DossierStore.Change(
            dossierID: dossier, snapshot: Data("{\"state\":\"\(state)\"}".utf8), state: state,
            legalDeadline: Date(timeIntervalSince1970: 2_000_000_000), version: version, from: version == nil ? "new" : "before",
            cause: cause, ignoredBecause: nil, timers: timers)
    }

    @Test("A save names the version it read; a stale one loses and writes nothing", arguments: TestStore.allCases)
    func versions(_ backend: TestStore) async throws {
        let store = try DossierStore(try await backend.make())
        let first = try store.save(change("D1", version: nil, cause: "portal/1"), at: Date()) { Data("[\($0)]".utf8) }
        #expect(first.outputs == Data("[\(first.sequence)]".utf8))
        #expect(try store.dossier("D1")?.version == 0)
        // A second "new" dossier with the same id: another core created it first.
        #expect(throws: StoreError.self) { try store.save(change("D1", version: nil, cause: "portal/2"), at: Date()) { _ in Data() } }
        _ = try store.save(change("D1", version: 0, cause: "registry/1", state: "awaiting-payment"), at: Date()) { _ in Data() }
        #expect(try store.dossier("D1")?.version == 1)
        // Read at version 0 by a core that lost the race: nothing of its change is written.
        #expect(throws: StoreError.self) {
            try store.save(change("D1", version: 0, cause: "timer/1", state: "needs-attention"), at: Date()) { _ in Data() }
        }
        #expect(try store.dossier("D1")?.state == "awaiting-payment")
        #expect(try store.transition(causedBy: "timer/1") == nil)
        #expect(try store.transitions(of: "D1").map(\.causeMessageID) == ["portal/1", "registry/1"])
    }

    @Test("A cause moves a dossier once, whoever tries again", arguments: TestStore.allCases)
    func causeOnce(_ backend: TestStore) async throws {
        let store = try DossierStore(try await backend.make())
        _ = try store.save(change("D1", version: nil, cause: "portal/1"), at: Date()) { _ in Data() }
        #expect(throws: StoreError.self) {
            try store.save(change("D1", version: 0, cause: "portal/1"), at: Date()) { _ in Data() }
        }
        #expect(try store.dossier("D1")?.version == 0)
        #expect(try store.transitions(of: "D1").count == 1)
    }

    @Test("A due timer is claimed by one claimant until its lease runs out", arguments: TestStore.allCases)
    func timerClaims(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let one = try DossierStore(location)
        let other = try DossierStore(location)
        let now = Date()
        _ = try one.save(
            change("D1", version: nil, cause: "portal/1", timers: [.schedule(step: "identity", attempt: 1, due: now.addingTimeInterval(-1))]),
            at: now) { _ in Data() }
        _ = try one.save(
            change("D2", version: nil, cause: "portal/2", timers: [.schedule(step: "identity", attempt: 1, due: now.addingTimeInterval(60))]),
            at: now) { _ in Data() }
        let claimed = try one.claimDueTimers(at: now, lease: 30)
        #expect(claimed.map(\.dossierID) == ["D1"])
        #expect(claimed.first?.step == "identity")
        #expect(try other.claimDueTimers(at: now, lease: 30).isEmpty)
        // The claimant died: after its lease, the timer is claimed again.
        #expect(try other.claimDueTimers(at: now.addingTimeInterval(31), lease: 30).map(\.dossierID) == ["D1"])
        // A new schedule replaces the timer and frees it.
        _ = try one.save(
            change("D1", version: 0, cause: "timer/1", timers: [.schedule(step: "identity", attempt: 2, due: now.addingTimeInterval(-1))]),
            at: now) { _ in Data() }
        #expect(try one.claimDueTimers(at: now, lease: 30).map(\.attempt) == [2])
        try one.removeTimer(DossierStore.Timer(dossierID: "D1", step: "identity", attempt: 2, due: now.addingTimeInterval(-1)))
        #expect(try one.claimDueTimers(at: now.addingTimeInterval(3600), lease: 30).map(\.dossierID) == ["D2"])
    }

    @Test("Claims from many threads at once give each due timer to one claimant", arguments: TestStore.allCases)
    func concurrentClaims(_ backend: TestStore) async throws {
        let location = try await backend.make()
        let store = try DossierStore(location)
        let now = Date()
        for index in 0..<40 {
            _ = try store.save(
                change("D\(index)", version: nil, cause: "portal/\(index)",
                    timers: [.schedule(step: "fee", attempt: 1, due: now.addingTimeInterval(-Double(index)))]),
                at: now) { _ in Data() }
        }
        let claimants = try (0..<4).map { _ in try DossierStore(location) }
        let claimed = await withTaskGroup(of: [String].self) { group in
            for claimant in claimants {
                group.addTask { (try? claimant.claimDueTimers(at: now, lease: 30, limit: 15).map(\.dossierID)) ?? [] }
            }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
        #expect(claimed.count == 40)
        #expect(Set(claimed).count == 40)
    }

    @Test("Lists, counts and completion times for the console", arguments: TestStore.allCases)
    func readings(_ backend: TestStore) async throws {
        let store = try DossierStore(try await backend.make())
        let start = Date(timeIntervalSince1970: 1_900_000_000)
        _ = try store.save(change("G22-A", version: nil, cause: "c1"), at: start) { _ in Data() }
        _ = try store.save(change("G22-B", version: nil, cause: "c2"), at: start) { _ in Data() }
        _ = try store.save(change("G22-B", version: 0, cause: "c3", state: "completed"), at: start.addingTimeInterval(90)) { _ in Data() }
        #expect(try store.countsByState() == ["awaiting-identity": 1, "completed": 1])
        #expect(try store.dossiers(state: "completed", limit: 10).map(\.dossierID) == ["G22-B"])
        #expect(try store.dossiers(idContaining: "-A", limit: 10).map(\.dossierID) == ["G22-A"])
        #expect(try store.dossiers(overdueAt: Date(timeIntervalSince1970: 2_100_000_000), limit: 10).map(\.dossierID) == ["G22-A"])
        #expect(try store.completionTimes(endedSince: start) == [90])
    }
}
