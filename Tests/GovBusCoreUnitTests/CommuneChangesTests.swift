import Foundation
import GovBusConfiguration
import GovBusContracts
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// The communes file, without a broker: which commune a code is routed as, and when.
@Suite("Communes reorganised")
struct CommuneChangesTests {
    // Made-up codes: no real commune is meant.
    static let text = """
        changes:
          - into: "90004"
            name: Phường Hợp Nhất
            from: ["90001", "90002", "90003"]
            effective: 2026-07-01T00:00:00+07:00
          - into: "90010"
            from: ["90004"]
            effective: 2027-01-01T00:00:00+07:00
        """

    @Test("A replaced code is its new commune from the effective time, through every later change")
    func current() throws {
        let communes = try CommuneChanges(Self.text, file: "communes.yaml")
        let before = try #require(RFC3339.date(from: "2026-06-30T23:59:59+07:00"))
        let after = try #require(RFC3339.date(from: "2026-07-01T00:00:00+07:00"))
        let later = try #require(RFC3339.date(from: "2027-02-01T00:00:00+07:00"))
        #expect(communes.current("90002", at: before) == "90002")
        #expect(communes.current("90002", at: after) == "90004")
        #expect(communes.current("90002", at: later) == "90010")
        #expect(communes.current("12345", at: later) == "12345")
        #expect(communes.formerCodes(of: "90004", at: after) == ["90001", "90002", "90003"])
        #expect(communes.formerCodes(of: "90010", at: later) == ["90001", "90002", "90003", "90004"])
        #expect(communes.changes(of: "90001", between: before, and: later).map(\.into) == ["90004", "90010"])
        #expect(communes.changes(of: "90001", between: after, and: later).map(\.into) == ["90010"])
    }

    @Test("A bad file names its line: a code that is not 5 digits, one replaced twice, a time without offset, a circle")
    func badFiles() {
        func problem(_ text: String) -> String {
            do {
                _ = try CommuneChanges(text, file: "communes.yaml")
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(problem("changes:\n  - {into: \"9004\", from: [\"90001\"], effective: 2026-07-01T00:00:00+07:00}\n").contains("communes.yaml:2"))
        #expect(
            problem(
                """
                changes:
                  - {into: "90004", from: ["90001"], effective: 2026-07-01T00:00:00+07:00}
                  - {into: "90005", from: ["90001"], effective: 2026-08-01T00:00:00+07:00}
                """
            ).contains("commune 90001 is replaced already, by the change on line 2"))
        #expect(problem("changes:\n  - {into: \"90004\", from: [\"90001\"], effective: 2026-07-01}\n").contains("effective must be a time with its offset"))
        #expect(
            problem(
                """
                changes:
                  - {into: "90004", from: ["90001"], effective: 2026-07-01T00:00:00+07:00}
                  - {into: "90001", from: ["90004"], effective: 2026-08-01T00:00:00+07:00}
                """
            ).contains("go round in a circle"))
    }

    @Test("config diff names a change of communes")
    func diff() throws {
        let diff = ConfigurationDiff(communes: .none, try CommuneChanges(Self.text, file: "communes.yaml"))
        #expect(diff.changes.contains { $0.hasPrefix("+ commune 90001, 90002, 90003 → 90004 (Phường Hợp Nhất) from 2026-06-30T17:00:00") })
    }
}
