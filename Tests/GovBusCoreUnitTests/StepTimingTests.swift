import Foundation
import CoreTestFixtures
import Testing

@testable import GovBusConsole

/// The dossier page's steps: each one's time against its procedure's timeout for one try.
@Suite("Step timings from a dossier's transitions")
struct StepTimingTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func transition(_ from: String, _ to: String, after seconds: Double, ignored: String? = nil) -> CoreDataReader.TransitionRow {
        CoreDataReader.TransitionRow(from: from, to: to, at: start.addingTimeInterval(seconds), cause: "c", ignoredBecause: ignored)
    }

    @Test("Each step from its ask to the answer; a timed-out try counts; a late reply changes nothing; the open step runs until now")
    func steps() throws {
        let procedure = try #require(CoreFixtures.procedures().procedures.values.first)
        let transitions = [
            transition("new", "awaiting-identity", after: 0),
            transition("awaiting-identity", "awaiting-identity", after: 200),  // its timer: asked again
            transition("awaiting-identity", "awaiting-payment", after: 260),
            transition("awaiting-payment", "awaiting-payment", after: 261, ignored: "a late reply"),
            transition("awaiting-payment", "awaiting-document", after: 300),
        ]
        let steps = StepTiming.steps(of: transitions, procedure: procedure, now: start.addingTimeInterval(400))
        #expect(steps.map(\.step) == ["identity", "fee", "document"])
        #expect(steps.map(\.seconds) == [260, 40, 100])
        #expect(steps.map(\.tries) == [2, 1, 1])
        #expect(steps[2].endedAt == nil)
        let identityTimeout = try #require(steps[0].timeoutSeconds)
        #expect(steps[0].overTimeout == (260 > identityTimeout))
        #expect(StepTiming.steps(of: transitions, procedure: nil).allSatisfy { $0.timeoutSeconds == nil && !$0.overTimeout })
    }
}
