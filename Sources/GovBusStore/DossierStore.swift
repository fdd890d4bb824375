public import Foundation

/// The process manager's state: each dossier's process (its snapshot, as the core encodes it),
/// each transition with its time, its cause and the messages it sent, and the step timers.
///
/// Several cores share it. A dossier's row carries a version: a save names the version it read,
/// and loses (`StoreError.conflict`, nothing written) if another core saved since. A transition's
/// cause is unique: the same message or timer cannot move a dossier twice, whichever core tries.
public final class DossierStore: Sendable {
    private let database: StoreDatabase

    public struct Dossier: Sendable, Hashable {
        public let dossierID: String
        public let snapshot: Data
        public let state: String
        public let legalDeadline: Date
        public let updatedAt: Date
        /// What a save of this dossier names, so that it does not overwrite another core's save.
        public let version: Int64
    }

    public struct Transition: Sendable, Hashable {
        public let sequence: Int64
        public let dossierID: String
        public let causeMessageID: String
        public let from: String
        public let to: String
        public let at: Date
        public let ignoredBecause: String?
        /// The messages it sent, as the core encoded them.
        public let outputs: Data
    }

    public struct Timer: Sendable, Hashable {
        public let dossierID: String
        public let step: String
        public let attempt: Int
        public let due: Date
    }

    public enum TimerChange: Sendable, Hashable {
        case cancel
        case schedule(step: String, attempt: Int, due: Date)
    }

    /// A new state to save: `version` is what was read (nil: a new dossier).
    public struct Change: Sendable {
        public var dossierID: String
        public var snapshot: Data
        public var state: String
        public var legalDeadline: Date
        public var version: Int64?
        public var from: String
        public var cause: String
        public var ignoredBecause: String?
        public var timers: [TimerChange]

        public init(
            dossierID: String, snapshot: Data, state: String, legalDeadline: Date, version: Int64?, from: String,
            cause: String, ignoredBecause: String?, timers: [TimerChange]
        ) {
            self.dossierID = dossierID
            self.snapshot = snapshot
            self.state = state
            self.legalDeadline = legalDeadline
            self.version = version
            self.from = from
            self.cause = cause
            self.ignoredBecause = ignoredBecause
            self.timers = timers
        }
    }

    public init(_ location: StoreLocation, readOnly: Bool = false) throws {
        database = try StoreDatabase(location, name: "dossiers", migrations: Self.migrations, readOnly: readOnly)
    }

    public init(path: String) throws {
        database = try StoreDatabase(sqliteFile: path, migrations: Self.migrations)
    }

    static let migrations: [StoreMigration] = [
        StoreMigration(
            "dossier store v1",
            sqlite: """
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
                """,
            postgres: [
                """
                CREATE TABLE dossier (
                    dossier_id TEXT PRIMARY KEY,
                    snapshot BYTEA NOT NULL,
                    state TEXT NOT NULL,
                    legal_deadline DOUBLE PRECISION NOT NULL,
                    updated_at DOUBLE PRECISION NOT NULL,
                    version BIGINT NOT NULL DEFAULT 0
                )
                """,
                "CREATE INDEX dossier_state ON dossier(state)",
                """
                CREATE TABLE transition (
                    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    dossier_id TEXT NOT NULL,
                    cause_message_id TEXT NOT NULL UNIQUE,
                    from_state TEXT NOT NULL,
                    to_state TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL,
                    ignored_because TEXT,
                    outputs BYTEA NOT NULL
                )
                """,
                "CREATE INDEX transition_dossier ON transition(dossier_id)",
                """
                CREATE TABLE step_timer (
                    dossier_id TEXT PRIMARY KEY,
                    step TEXT NOT NULL,
                    attempt BIGINT NOT NULL,
                    due DOUBLE PRECISION NOT NULL,
                    claimed_until DOUBLE PRECISION
                )
                """,
                "CREATE INDEX step_timer_due ON step_timer(due)",
            ]),
        StoreMigration(
            "dossier store v2: versions and timer claims",
            sqlite: """
                ALTER TABLE dossier ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE step_timer ADD COLUMN claimed_until DOUBLE;
                """,
            postgres: nil),
        // What the metrics (overdue, every few seconds on each core) and the console's stuck view read.
        StoreMigration(
            "dossier store v3: deadlines and waits",
            sqlite: """
                CREATE INDEX dossier_legal_deadline ON dossier(legal_deadline);
                CREATE INDEX dossier_state_updated ON dossier(state, updated_at);
                """,
            postgres: [
                "CREATE INDEX dossier_legal_deadline ON dossier(legal_deadline)",
                "CREATE INDEX dossier_state_updated ON dossier(state, updated_at)",
            ]),
        // The routes and procedures the cores sharing this store run: each version's digest.
        StoreMigration(
            "dossier store v4: configuration versions",
            sqlite: """
                CREATE TABLE configuration_version (
                    version INTEGER PRIMARY KEY, digest TEXT NOT NULL, applied_at DOUBLE NOT NULL, applied_by TEXT NOT NULL
                );
                """,
            postgres: [
                """
                CREATE TABLE configuration_version (
                    version BIGINT PRIMARY KEY, digest TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL,
                    applied_by TEXT NOT NULL
                )
                """
            ]),
    ]

    /// The configuration the cores run now: the last version recorded, and its files' digest.
    public func configurationVersion() throws -> (version: Int64, digest: String)? {
        try database.read { session in
            try session.queryOne("SELECT version, digest FROM configuration_version ORDER BY version DESC LIMIT 1", []).map {
                (try $0.integer("version"), try $0.text("digest"))
            }
        }
    }

    /// The version the cores run, for a core that starts: the last recorded, or version 1 with
    /// `digest` when the store has none. A starting core never records its files over a newer
    /// version: when they differ from the last, it is the core that is behind.
    public func startingConfiguration(digest: String, at now: Date = Date()) throws -> (version: Int64, digest: String) {
        for _ in 0..<5 {
            if let last = try configurationVersion() { return last }
            do {
                try database.write { session in
                    _ = try session.execute(
                        "INSERT INTO configuration_version (version, digest, applied_at, applied_by) VALUES (1, ?, ?, 'start')",
                        [.text(digest), .date(now)])
                }
                return (1, digest)
            } catch {
                // Another core recorded the first version at the same moment: read it.
                continue
            }
        }
        throw StoreError.conflict("configuration version")
    }

    /// Records the files of `digest` as the configuration in force, a version after the last
    /// (unless they are the last already); returns its version. Two cores recording at once: the
    /// second finds the first's row and records after it, or finds the same digest.
    @discardableResult
    public func recordConfiguration(digest: String, by who: String, at now: Date = Date()) throws -> Int64 {
        var failure: (any Error)?
        for _ in 0..<5 {
            if let last = try configurationVersion(), last.digest == digest { return last.version }
            let next = (try configurationVersion()?.version ?? 0) + 1
            do {
                try database.write { session in
                    _ = try session.execute(
                        "INSERT INTO configuration_version (version, digest, applied_at, applied_by) VALUES (?, ?, ?, ?)",
                        [.integer(next), .text(digest), .date(now), .text(who)])
                }
                return next
            } catch {
                // Another core took that version number (or the store failed): read again.
                failure = error
            }
        }
        throw failure ?? StoreError.conflict("configuration version")
    }

    public func dossier(_ dossierID: String) throws -> Dossier? {
        try database.read { session in
            try session.queryOne("SELECT * FROM dossier WHERE dossier_id = ?", [.text(dossierID)]).map(Self.dossier)
        }
    }

    /// The dossiers, last changed first: those in `state`, whose id contains `idContaining`, past
    /// their legal deadline at `overdueAt` and not ended.
    public func dossiers(state: String? = nil, idContaining: String? = nil, overdueAt: Date? = nil, limit: Int) throws -> [Dossier] {
        var conditions: [String] = []
        var values: [StoreValue] = []
        if let state {
            conditions.append("state = ?")
            values.append(.text(state))
        }
        if let idContaining {
            conditions.append("dossier_id LIKE ?")
            values.append(.text("%\(idContaining)%"))
        }
        if let overdueAt {
            conditions.append("legal_deadline < ? AND state NOT IN ('completed', 'rejected')")
            values.append(.date(overdueAt))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try database.read { session in
            try session.query(
                "SELECT * FROM dossier \(whereClause) ORDER BY updated_at DESC LIMIT ?", values + [.integer(limit)]
            ).map(Self.dossier)
        }
    }

    /// The transition a cause already made, if any: handling it again must repeat it exactly.
    public func transition(causedBy cause: String) throws -> Transition? {
        try database.read { session in
            try session.queryOne("SELECT * FROM transition WHERE cause_message_id = ?", [.text(cause)]).map(Self.transition)
        }
    }

    public func transitions(of dossierID: String) throws -> [Transition] {
        try database.read { session in
            try session.query("SELECT * FROM transition WHERE dossier_id = ? ORDER BY sequence", [.text(dossierID)])
                .map(Self.transition)
        }
    }

    /// Claims the timers due by `now` that no core holds, for `lease`: another core's claim on the
    /// same timers waits for this one and then finds them taken. A claim that is not followed by a
    /// transition (its core died) runs out, and the timer is claimed again.
    public func claimDueTimers(at now: Date, lease: TimeInterval = 30, limit: Int = 100) throws -> [Timer] {
        try database.write { session in
            try session.query(
                """
                UPDATE step_timer SET claimed_until = ?
                WHERE dossier_id IN (
                    SELECT dossier_id FROM step_timer WHERE due <= ? AND (claimed_until IS NULL OR claimed_until < ?)
                    ORDER BY due LIMIT ?)
                AND due <= ? AND (claimed_until IS NULL OR claimed_until < ?)
                RETURNING dossier_id, step, attempt, due
                """,
                [
                    .date(now.addingTimeInterval(lease)), .date(now), .date(now), .integer(limit), .date(now), .date(now),
                ]
            ).map { row in
                Timer(
                    dossierID: try row.text("dossier_id"), step: try row.text("step"),
                    attempt: Int(try row.integer("attempt")), due: try row.date("due"))
            }.sorted { $0.due < $1.due }
        }
    }

    /// Removes a timer that has done its work (only that one: the dossier may have a newer one).
    public func removeTimer(_ timer: Timer) throws {
        try database.write { session in
            try session.execute(
                "DELETE FROM step_timer WHERE dossier_id = ? AND step = ? AND attempt = ? AND due = ?",
                [.text(timer.dossierID), .text(timer.step), .integer(timer.attempt), .date(timer.due)])
        }
    }

    /// Saves the new state, its transition and its timers in one transaction. `outputs` makes the
    /// transition's messages from its number. Throws `StoreError.conflict`, with nothing written,
    /// when another core saved the dossier since `change.version` or recorded the same cause.
    public func save(_ change: Change, at now: Date, outputs: (Int64) throws -> Data) throws -> Transition {
        try database.write { session in
            let saved: Int
            if let version = change.version {
                saved = try session.execute(
                    """
                    UPDATE dossier SET snapshot = ?, state = ?, updated_at = ?, version = version + 1
                    WHERE dossier_id = ? AND version = ?
                    """,
                    [.blob(change.snapshot), .text(change.state), .date(now), .text(change.dossierID), .integer(version)])
            } else {
                saved = try session.execute(
                    """
                    INSERT INTO dossier (dossier_id, snapshot, state, legal_deadline, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (dossier_id) DO NOTHING
                    """,
                    [
                        .text(change.dossierID), .blob(change.snapshot), .text(change.state), .date(change.legalDeadline),
                        .date(now),
                    ])
            }
            guard saved == 1 else { throw StoreError.conflict("dossier \(change.dossierID) was saved by another core meanwhile") }
            for timer in change.timers {
                switch timer {
                case .cancel:
                    try session.execute("DELETE FROM step_timer WHERE dossier_id = ?", [.text(change.dossierID)])
                case .schedule(let step, let attempt, let due):
                    try session.execute(
                        """
                        INSERT INTO step_timer (dossier_id, step, attempt, due, claimed_until) VALUES (?, ?, ?, ?, NULL)
                        ON CONFLICT (dossier_id) DO UPDATE SET step = excluded.step, attempt = excluded.attempt,
                            due = excluded.due, claimed_until = NULL
                        """,
                        [.text(change.dossierID), .text(step), .integer(attempt), .date(due)])
                }
            }
            guard
                let inserted = try session.queryOne(
                    """
                    INSERT INTO transition (dossier_id, cause_message_id, from_state, to_state, at, ignored_because, outputs)
                    VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING sequence
                    """,
                    [
                        .text(change.dossierID), .text(change.cause), .text(change.from), .text(change.state), .date(now),
                        .optional(change.ignoredBecause), .blob(Data()),
                    ])
            else { throw StoreError.failed("the transition of \(change.dossierID) got no number") }
            let sequence = try inserted.integer("sequence")
            let messages = try outputs(sequence)
            try session.execute("UPDATE transition SET outputs = ? WHERE sequence = ?", [.blob(messages), .integer(sequence)])
            return Transition(
                sequence: sequence, dossierID: change.dossierID, causeMessageID: change.cause, from: change.from,
                to: change.state, at: now, ignoredBecause: change.ignoredBecause, outputs: messages)
        }
    }

    /// The dossiers in `state` that have waited longest since their last change.
    public func longestWaiting(in state: String, limit: Int) throws -> [Dossier] {
        try database.read { session in
            try session.query(
                "SELECT * FROM dossier WHERE state = ? ORDER BY updated_at ASC LIMIT ?", [.text(state), .integer(limit)]
            ).map(Self.dossier)
        }
    }

    /// The dossiers past their legal deadline at `date` and not ended, the longest overdue first.
    public func overdue(at date: Date, limit: Int) throws -> [Dossier] {
        try database.read { session in
            try session.query(
                """
                SELECT * FROM dossier WHERE legal_deadline < ? AND state NOT IN ('completed', 'rejected')
                ORDER BY legal_deadline ASC LIMIT ?
                """, [.date(date), .integer(limit)]
            ).map(Self.dossier)
        }
    }

    /// How many dossiers are past their legal deadline at `date` and not ended.
    public func countOverdue(at date: Date) throws -> Int {
        try database.read { session in
            let row = try session.queryOne(
                "SELECT COUNT(*) AS n FROM dossier WHERE legal_deadline < ? AND state NOT IN ('completed', 'rejected')",
                [.date(date)])
            return Int(try row?.integer("n") ?? 0)
        }
    }

    /// How many dossiers are in each state.
    public func countsByState() throws -> [String: Int] {
        try database.read { session in
            var counts: [String: Int] = [:]
            for row in try session.query("SELECT state, COUNT(*) AS n FROM dossier GROUP BY state", []) {
                counts[try row.text("state")] = Int(try row.integer("n"))
            }
            return counts
        }
    }

    /// Seconds from the first transition to the last, for the dossiers that ended since `date`.
    public func completionTimes(endedSince date: Date) throws -> [Double] {
        try database.read { session in
            try session.query(
                """
                SELECT MIN(at) AS first, MAX(at) AS last FROM transition WHERE dossier_id IN
                (SELECT dossier_id FROM dossier WHERE state IN ('completed', 'rejected') AND updated_at >= ?)
                GROUP BY dossier_id
                """, [.date(date)]
            ).map { try $0.real("last") - $0.real("first") }
        }
    }

    private static func dossier(_ row: StoreRow) throws -> Dossier {
        Dossier(
            dossierID: try row.text("dossier_id"), snapshot: try row.blob("snapshot"), state: try row.text("state"),
            legalDeadline: try row.date("legal_deadline"), updatedAt: try row.date("updated_at"),
            version: try row.integer("version"))
    }

    private static func transition(_ row: StoreRow) throws -> Transition {
        Transition(
            sequence: try row.integer("sequence"), dossierID: try row.text("dossier_id"),
            causeMessageID: try row.text("cause_message_id"), from: try row.text("from_state"), to: try row.text("to_state"),
            at: try row.date("at"), ignoredBecause: try row.optionalText("ignored_because"),
            outputs: try row.optionalBlob("outputs") ?? Data())
    }
}
