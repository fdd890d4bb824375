import Foundation
import CoreTestFixtures
import Testing

@testable import GovBusConsole

/// The dossier page's steps: each one's time against its procedure's timeout for one try.
@Suite("Step timings from a dossier's transitions")
struct StepTimingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func transition(_ from: String, _ to: String, after seconds: Double, cause: String = "registry/m", ignored: String? = nil)
        -> CoreDataReader.TransitionRow
    {
        CoreDataReader.TransitionRow(from: from, to: to, at: start.addingTimeInterval(seconds), cause: cause, ignoredBecause: ignored)
    }

    @Test("Each step from its ask to the answer; a timer's ask counts a try, a payment link does not; a late reply changes nothing; the open step runs until now")
    func steps() throws {
        // 2.000720: identity 2 min, fee 24 h, document 30 min a try.
        let procedure = try #require(CoreFixtures.procedures().procedures["2.000720"])
        let transitions = [
            transition("new", "awaiting-identity", after: 0, cause: "portal/m1"),
            transition("awaiting-identity", "awaiting-identity", after: 121, cause: "0d4c2f1e-timer"),
            transition("awaiting-identity", "awaiting-payment", after: 260),
            transition("awaiting-payment", "awaiting-payment", after: 261, cause: "payment/link"),
            transition("awaiting-payment", "awaiting-payment", after: 262, cause: "registry/late", ignored: "a late reply"),
            transition("awaiting-payment", "awaiting-document", after: 300, cause: "payment/paid"),
        ]
        let steps = StepTiming.steps(of: transitions, procedure: procedure, now: start.addingTimeInterval(400))
        #expect(steps.map(\.step) == ["identity", "fee", "document"])
        #expect(steps.map(\.seconds) == [260, 40, 100])
        #expect(steps.map(\.tries) == [2, 1, 1])
        #expect(steps.map(\.timeoutSeconds) == [120, 86400, 1800])
        #expect(steps.map(\.overTimeout) == [true, false, false])
        #expect(steps[2].endedAt == nil)
        #expect(StepTiming.steps(of: transitions, procedure: nil).allSatisfy { $0.timeoutSeconds == nil && !$0.overTimeout })
    }
}
