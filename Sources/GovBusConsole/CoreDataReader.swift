import Foundation
import GRDB
import GovBusContracts
import GovBusCore

/// What the console reads of the core's SQLite files, read-only: dossiers and their transitions
/// (dossiers.sqlite), the audit log's records (audit.sqlite), and what follows from them: adapters'
/// heartbeats, throughput per type, completion times.
final class CoreDataReader: Sendable {
    private let dossiers: DatabasePool
    private let audit: DatabasePool
    let auditPath: String

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    init(folder: URL) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let dossiersPath = folder.appendingPathComponent("dossiers.sqlite").path
        auditPath = folder.appendingPathComponent("audit.sqlite").path
        for path in [dossiersPath, auditPath] where !FileManager.default.fileExists(atPath: path) {
            throw Unavailable(description: "no \(path): is coreData the core's data folder, and has the core run?")
        }
        dossiers = try DatabasePool(path: dossiersPath, configuration: configuration)
        audit = try DatabasePool(path: auditPath, configuration: configuration)
    }

    // MARK: Dossiers

    struct DossierRow: Codable, Sendable {
        var dossierId: String
        var procedureCode: String
        var procedureName: String
        var state: String
        var communeCode: String
        var applicantName: String
        var applicantPersonalId: String
        var submittedAt: Date
        var updatedAt: Date
        var legalDeadline: Date
        var overdue: Bool
    }

    struct DossierFilter: Sendable {
        var text: String?
        var procedure: String?
        var state: String?
        var commune: String?
        var overdueOnly = false
        var limit = 200
    }

    static let finalStates: Set<String> = ["completed", "rejected"]

    func dossierList(_ filter: DossierFilter, now: Date = Date()) throws -> [DossierRow] {
        try dossiers.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state = filter.state {
                conditions.append("state = ?")
                _ = arguments.append(contentsOf: [state])
            }
            if let text = filter.text {
                conditions.append("dossier_id LIKE ?")
                _ = arguments.append(contentsOf: ["%\(text)%"])
            }
            if filter.overdueOnly {
                conditions.append("legal_deadline < ? AND state NOT IN ('completed', 'rejected')")
                _ = arguments.append(contentsOf: [now.timeIntervalSince1970])
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM dossier \(whereClause) ORDER BY updated_at DESC LIMIT ?",
                arguments: arguments + [filter.limit * 4])
            return try rows.compactMap { row -> DossierRow? in
                let item = try Self.dossierRow(row, now: now)
                if let procedure = filter.procedure, item.procedureCode != procedure { return nil }
                if let commune = filter.commune, item.communeCode != commune { return nil }
                return item
            }.prefix(filter.limit).map { $0 }
        }
    }

    func dossier(_ id: String, now: Date = Date()) throws -> DossierRow? {
        try dossiers.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dossier WHERE dossier_id = ?", arguments: [id]).map {
                try Self.dossierRow($0, now: now)
            }
        }
    }

    private static func dossierRow(_ row: Row, now: Date) throws -> DossierRow {
        let snapshot = try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: row["snapshot"] as Data)
        let state: String = row["state"]
        let deadline = Date(timeIntervalSince1970: row["legal_deadline"])
        return DossierRow(
            dossierId: row["dossier_id"], procedureCode: snapshot.procedureCode, procedureName: snapshot.dossier.procedure.name,
            state: state, communeCode: snapshot.dossier.communeCode, applicantName: snapshot.dossier.applicant.fullName,
            applicantPersonalId: snapshot.dossier.applicant.personalId, submittedAt: snapshot.dossier.submittedAt,
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]), legalDeadline: deadline,
            overdue: !finalStates.contains(state) && deadline < now)
    }

    struct TransitionRow: Codable, Sendable {
        var from: String
        var to: String
        var at: Date
        var cause: String
        var ignoredBecause: String?
    }

    func transitions(of id: String) throws -> [TransitionRow] {
        try dossiers.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM transition WHERE dossier_id = ? ORDER BY sequence", arguments: [id]).map {
                TransitionRow(
                    from: $0["from_state"], to: $0["to_state"], at: Date(timeIntervalSince1970: $0["at"]),
                    cause: $0["cause_message_id"], ignoredBecause: $0["ignored_because"])
            }
        }
    }

    func countsByState() throws -> [String: Int] {
        try dossiers.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM dossier GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }

    // MARK: The audit log

    struct TimelineEntry: Codable, Sendable {
        var sequence: Int64
        var at: Date
        var kind: String
        var type: String
        var sender: String
        var receivers: [String]
        var messageId: String
        /// Seconds since the step before.
        var sincePrevious: Double?
        var body: String?
    }

    /// Every message about a dossier, across the subsystems, in order.
    func timeline(of correlationID: String) throws -> [TimelineEntry] {
        let records = try audit.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_record WHERE correlation_id = ? ORDER BY sequence", arguments: [correlationID])
        }
        var previous: Date?
        return records.map { row in
            let at = Date(timeIntervalSince1970: row["recorded_at"])
            defer { previous = at }
            let receivers: String = row["receivers"]
            return TimelineEntry(
                sequence: row["sequence"], at: at, kind: row["kind"], type: row["type"], sender: row["sender"],
                receivers: receivers.isEmpty ? [] : receivers.split(separator: ",").map(String.init),
                messageId: row["message_id"], sincePrevious: previous.map { at.timeIntervalSince($0) },
                body: (row["body"] as Data?).map { String(decoding: $0, as: UTF8.self) })
        }
    }

    struct AdapterActivity: Codable, Sendable {
        var name: String
        var lastHeartbeat: Date?
        var version: String?
        var state: String
        var messagesIn: Int
        var messagesOut: Int
    }

    /// Each adapter's last heartbeat and the last hour's messages from it and to it: "up" when a
    /// heartbeat came within 30 s, "late" within 2 minutes, else "down".
    func adapters(_ names: [String], now: Date = Date()) throws -> [AdapterActivity] {
        let hourAgo = now.addingTimeInterval(-3600).timeIntervalSince1970
        return try audit.read { db in
            try names.map { name in
                let beat = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT recorded_at, body FROM audit_record WHERE type = ? AND sender = ?
                        ORDER BY sequence DESC LIMIT 1
                        """, arguments: [AdapterHeartbeatV1.messageType, name])
                let at = beat.map { Date(timeIntervalSince1970: $0["recorded_at"]) }
                let version = (beat?["body"] as Data?).flatMap { try? AdapterHeartbeatV1(jsonBody: $0) }?.version
                let age = at.map { now.timeIntervalSince($0) } ?? .infinity
                let messagesIn = try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM audit_record WHERE sender = ? AND recorded_at >= ? AND type != ?",
                    arguments: [name, hourAgo, AdapterHeartbeatV1.messageType]) ?? 0
                let messagesOut = try Int.fetchOne(
                    db,
                    sql: """
                        SELECT COUNT(*) FROM audit_record WHERE recorded_at >= ?
                        AND (',' || receivers || ',') LIKE ?
                        """, arguments: [hourAgo, "%,\(name),%"]) ?? 0
                return AdapterActivity(
                    name: name, lastHeartbeat: at, version: version, state: age <= 30 ? "up" : age <= 120 ? "late" : "down",
                    messagesIn: messagesIn, messagesOut: messagesOut)
            }
        }
    }

    struct ThroughputPoint: Codable, Sendable {
        var minute: Date
        var type: String
        var count: Int
    }

    /// Messages per type and minute over the last hour (heartbeats left out).
    func throughput(now: Date = Date()) throws -> [ThroughputPoint] {
        try audit.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(recorded_at / 60 AS INTEGER) * 60 AS minute, type, COUNT(*) AS n FROM audit_record
                    WHERE recorded_at >= ? AND type != ? GROUP BY minute, type ORDER BY minute
                    """, arguments: [now.addingTimeInterval(-3600).timeIntervalSince1970, AdapterHeartbeatV1.messageType]
            ).map { ThroughputPoint(minute: Date(timeIntervalSince1970: $0["minute"]), type: $0["type"], count: $0["n"]) }
        }
    }

    /// Seconds from submission to the end, for the dossiers that ended in the last day.
    func completionTimes(now: Date = Date()) throws -> [Double] {
        try dossiers.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT MIN(at) AS first, MAX(at) AS last FROM transition WHERE dossier_id IN
                    (SELECT dossier_id FROM dossier WHERE state IN ('completed', 'rejected') AND updated_at >= ?)
                    GROUP BY dossier_id
                    """, arguments: [now.addingTimeInterval(-86400).timeIntervalSince1970]
            ).map { (($0["last"] as Double) - ($0["first"] as Double)) }
        }
    }
}
