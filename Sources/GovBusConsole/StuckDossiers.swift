import Foundation

/// The "stuck" view: in each state a dossier can wait in, those that have waited longest since
/// their last change; and the dossiers past their legal deadline, by commune.
struct StuckDossiers: Codable, Sendable {
    struct Waiting: Codable, Sendable {
        var state: String
        var dossiers: [CoreDataReader.DossierRow]
    }

    struct Commune: Codable, Sendable {
        var communeCode: String
        var overdue: Int
        /// The longest overdue first.
        var dossiers: [CoreDataReader.DossierRow]
    }

    var waiting: [Waiting]
    var overdueByCommune: [Commune]

    static let waitingStates = ["awaiting-identity", "awaiting-payment", "awaiting-document", "needs-attention"]
}

extension CoreDataReader {
    func stuck(perState limit: Int = 10, now: Date = Date()) throws -> StuckDossiers {
        let waiting = try StuckDossiers.waitingStates.map { state in
            StuckDossiers.Waiting(state: state, dossiers: try longestWaiting(in: state, limit: limit, now: now))
        }
        let overdue = try dossierList(DossierFilter(overdueOnly: true, limit: 2000), now: now)
        let communes = Dictionary(grouping: overdue, by: \.communeCode).map { code, rows in
            StuckDossiers.Commune(
                communeCode: code, overdue: rows.count, dossiers: Array(rows.sorted { $0.legalDeadline < $1.legalDeadline }.prefix(limit)))
        }
        return StuckDossiers(waiting: waiting, overdueByCommune: communes.sorted { $0.overdue > $1.overdue })
    }
}
