import Foundation
import GRDB
import GovBusContracts

/// The process manager's state in SQLite: each dossier's process, and each transition with its
/// time, its cause (the message id that caused it) and the messages it sent.
final class DossierStore: Sendable {
    private let database: DatabasePool

    struct Transition: Sendable, Hashable {
        let sequence: Int64
        let dossierID: String
        let causeMessageID: String
        let from: String
        let to: String
        let at: Date
        let ignoredBecause: String?
        let outputs: [OutgoingMessage]
    }

    init(path: String) throws {
        database = try DatabasePool(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("dossier store v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dossier (
                        dossier_id TEXT PRIMARY KEY,
                        snapshot BLOB NOT NULL,
                        state TEXT NOT NULL,
                        legal_deadline DOUBLE NOT NULL,
                        updated_at DOUBLE NOT NULL
                    );
                    CREATE INDEX dossier_state ON dossier(state);
                    CREATE TABLE transition (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        dossier_id TEXT NOT NULL,
                        cause_message_id TEXT NOT NULL UNIQUE,
                        from_state TEXT NOT NULL,
                        to_state TEXT NOT NULL,
                        at DOUBLE NOT NULL,
                        ignored_because TEXT,
                        outputs BLOB NOT NULL
                    );
                    CREATE INDEX transition_dossier ON transition(dossier_id);
                    CREATE TABLE step_timer (
                        dossier_id TEXT PRIMARY KEY,
                        step TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        due DOUBLE NOT NULL
                    );
                    CREATE INDEX step_timer_due ON step_timer(due);
                    """)
        }
        try migrator.migrate(database)
    }

    func snapshot(of dossierID: String) throws -> DossierProcess.Snapshot? {
        try database.read { db in
            guard let data = try Data.fetchOne(db, sql: "SELECT snapshot FROM dossier WHERE dossier_id = ?", arguments: [dossierID])
            else { return nil }
            return try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: data)
        }
    }

    /// The transition a message already caused, if any: handling it again must repeat it exactly.
    func transition(causedBy messageID: String) throws -> Transition? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM transition WHERE cause_message_id = ?", arguments: [messageID])
                .map(Self.transition)
        }
    }

    func transitions(of dossierID: String) throws -> [Transition] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM transition WHERE dossier_id = ? ORDER BY sequence", arguments: [dossierID])
                .map(Self.transition)
        }
    }

    /// Saves the new state and its transition in one transaction; returns the transition's number.
    struct DueTimer: Sendable, Hashable {
        let dossierID: String
        let step: DossierStep
        let attempt: Int
        let due: Date
    }

    func dueTimers(at now: Date, limit: Int = 100) throws -> [DueTimer] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM step_timer WHERE due <= ? ORDER BY due LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            ).compactMap { row in
                guard let step = DossierStep(rawValue: row["step"]) else { return nil }
                return DueTimer(
                    dossierID: row["dossier_id"], step: step, attempt: row["attempt"],
                    due: Date(timeIntervalSince1970: row["due"]))
            }
        }
    }

    /// Removes a timer that has done its work (only that one: the dossier may have a newer one).
    func removeTimer(_ timer: DueTimer) throws {
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM step_timer WHERE dossier_id = ? AND step = ? AND attempt = ?",
                arguments: [timer.dossierID, timer.step.rawValue, timer.attempt])
        }
    }

    func save(
        _ process: DossierProcess, from: String, causedBy messageID: String, at now: Date, ignoredBecause: String?,
        timers: [DossierProcess.Command], outputs: (Int64) throws -> [OutgoingMessage]
    ) throws -> Transition {
        try database.write { db in
            for command in timers {
                switch command {
                case .cancelTimeout:
                    try db.execute(sql: "DELETE FROM step_timer WHERE dossier_id = ?", arguments: [process.dossier.dossierId])
                case .scheduleTimeout(let step, let attempt, let due):
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO step_timer (dossier_id, step, attempt, due) VALUES (?, ?, ?, ?)",
                        arguments: [process.dossier.dossierId, step.rawValue, attempt, due.timeIntervalSince1970])
                default:
                    break
                }
            }
            let snapshot = try ContractCoding.encoder.encode(process.snapshot)
            try db.execute(
                sql: """
                    INSERT INTO dossier (dossier_id, snapshot, state, legal_deadline, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(dossier_id) DO UPDATE SET snapshot = excluded.snapshot, state = excluded.state,
                        updated_at = excluded.updated_at
                    """,
                arguments: [
                    process.dossier.dossierId, snapshot, process.state.name, process.legalDeadline.timeIntervalSince1970,
                    now.timeIntervalSince1970,
                ])
            try db.execute(
                sql: """
                    INSERT INTO transition (dossier_id, cause_message_id, from_state, to_state, at, ignored_because, outputs)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    process.dossier.dossierId, messageID, from, process.state.name, now.timeIntervalSince1970,
                    ignoredBecause, Data(),
                ])
            let sequence = db.lastInsertedRowID
            let messages = try outputs(sequence)
            try db.execute(
                sql: "UPDATE transition SET outputs = ? WHERE sequence = ?",
                arguments: [try JSONEncoder().encode(messages), sequence])
            return Transition(
                sequence: sequence, dossierID: process.dossier.dossierId, causeMessageID: messageID, from: from,
                to: process.state.name, at: now, ignoredBecause: ignoredBecause, outputs: messages)
        }
    }

    /// How many dossiers are in each state (for the metrics).
    func countsByState() throws -> [String: Int] {
        try database.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM dossier GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }

    private static func transition(_ row: Row) -> Transition {
        let outputs = (try? JSONDecoder().decode([OutgoingMessage].self, from: row["outputs"] as Data)) ?? []
        return Transition(
            sequence: row["sequence"], dossierID: row["dossier_id"], causeMessageID: row["cause_message_id"],
            from: row["from_state"], to: row["to_state"], at: Date(timeIntervalSince1970: row["at"]),
            ignoredBecause: row["ignored_because"], outputs: outputs)
    }
}
