import Foundation
import GovBusCore

/// The "stuck" view: in each state a dossier can wait in, those that have waited longest since
/// their last change; and the dossiers past their legal deadline, by commune.
struct StuckDossiers: Codable, Sendable {
    struct Waiting: Codable, Sendable {
        var state: String
        var dossiers: [CoreDataReader.DossierRow]
    }

    struct Commune: Codable, Sendable {
        /// The commune now: one a reorganisation replaced counts under its new commune.
        var communeCode: String
        /// The codes it replaced, whose dossiers are counted here.
        var formerCodes: [String]
        /// Among the `overdueLimit` longest overdue.
        var overdue: Int
        /// The longest overdue first.
        var dossiers: [CoreDataReader.DossierRow]
    }

    var waiting: [Waiting]
    var overdueByCommune: [Commune]
    /// Whether more dossiers are overdue than the view counted.
    var overdueCountedPartly: Bool

    /// How many overdue dossiers the view reads at most, the longest overdue first.
    static let overdueLimit = 5000

    static let waitingStates = ["awaiting-identity", "awaiting-payment", "awaiting-document", "needs-attention"]
}

extension CoreDataReader {
    func stuck(perState limit: Int = 10, communes: CommuneChanges = .none, now: Date = Date()) throws -> StuckDossiers {
        let waiting = try StuckDossiers.waitingStates.map { state in
            StuckDossiers.Waiting(state: state, dossiers: try longestWaiting(in: state, limit: limit, now: now))
        }
        // The commune is in each dossier's snapshot, not a column: counted here, among the longest overdue.
        let overdue = try self.overdue(limit: StuckDossiers.overdueLimit, now: now)
        let byCommune = Dictionary(grouping: overdue) { communes.current($0.communeCode, at: now) }.map { code, rows in
            StuckDossiers.Commune(
                communeCode: code, formerCodes: communes.formerCodes(of: code, at: now), overdue: rows.count,
                dossiers: Array(rows.prefix(limit)))
        }
        return StuckDossiers(
            waiting: waiting, overdueByCommune: byCommune.sorted { $0.overdue > $1.overdue },
            overdueCountedPartly: overdue.count == StuckDossiers.overdueLimit)
    }
}
