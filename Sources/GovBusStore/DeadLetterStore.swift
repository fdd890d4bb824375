public import Foundation

/// The console's archive of dead letters, each with what an operator did with it.
public final class DeadLetterStore: Sendable {
    private let database: StoreDatabase

    public struct Letter: Sendable, Hashable {
        public var id: Int64
        public var messageID: String
        public var type: String
        public var sender: String
        public var correlationID: String
        public var check: String
        public var reason: String
        public var at: Date
        public var attempts: Int
        public var origin: String
        /// The properties a replay needs, as the console encodes them.
        public var properties: Data
        public var body: Data
        public var status: DeadLetterStatus

        public init(
            id: Int64 = 0, messageID: String, type: String, sender: String, correlationID: String, check: String,
            reason: String, at: Date, attempts: Int, origin: String, properties: Data, body: Data, status: DeadLetterStatus = .waiting
        ) {
            self.id = id
            self.messageID = messageID
            self.type = type
            self.sender = sender
            self.correlationID = correlationID
            self.check = check
            self.reason = reason
            self.at = at
            self.attempts = attempts
            self.origin = origin
            self.properties = properties
            self.body = body
            self.status = status
        }
    }

    /// What to list: each field that is set must match.
    public struct Filter: Sendable, Hashable {
        public var type: String?
        public var sender: String?
        public var check: String?
        public var status: DeadLetterStatus?

        public init(type: String? = nil, sender: String? = nil, check: String? = nil, status: DeadLetterStatus? = .waiting) {
            self.type = type
            self.sender = sender
            self.check = check
            self.status = status
        }
    }

    /// The archive as the part `dead-letters` of a store (SQLite: in the console's own folder).
    public init(_ location: StoreLocation) throws {
        database = try StoreDatabase(location, name: "dead-letters", migrations: Self.migrations)
    }

    static let migrations: [StoreMigration] = [
        StoreMigration(
            "dead letters v1",
            sqlite: """
                CREATE TABLE dead_letter (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, type TEXT NOT NULL,
                    sender TEXT NOT NULL, correlation_id TEXT NOT NULL, check_name TEXT NOT NULL, reason TEXT NOT NULL,
                    at DOUBLE NOT NULL, attempts INTEGER NOT NULL, origin TEXT NOT NULL, properties BLOB NOT NULL,
                    body BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'waiting');
                CREATE INDEX dead_letter_status ON dead_letter(status);
                """,
            postgres: [
                """
                CREATE TABLE dead_letter (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, message_id TEXT NOT NULL, type TEXT NOT NULL,
                    sender TEXT NOT NULL, correlation_id TEXT NOT NULL, check_name TEXT NOT NULL, reason TEXT NOT NULL,
                    at DOUBLE PRECISION NOT NULL, attempts BIGINT NOT NULL, origin TEXT NOT NULL, properties BYTEA NOT NULL,
                    body BYTEA NOT NULL, status TEXT NOT NULL DEFAULT 'waiting')
                """,
                "CREATE INDEX dead_letter_status ON dead_letter(status)",
            ]),
    ]

    /// Keeps a letter; returns its number.
    @discardableResult
    public func add(_ letter: Letter) throws -> Int64 {
        try database.write { session in
            guard
                let row = try session.queryOne(
                    """
                    INSERT INTO dead_letter (message_id, type, sender, correlation_id, check_name, reason, at, attempts, origin,
                        properties, body, status)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                    """,
                    [
                        .text(letter.messageID), .text(letter.type), .text(letter.sender), .text(letter.correlationID),
                        .text(letter.check), .text(letter.reason), .date(letter.at), .integer(letter.attempts),
                        .text(letter.origin), .blob(letter.properties), .blob(letter.body), .text(letter.status.rawValue),
                    ])
            else { throw StoreError.failed("the dead letter got no number") }
            return try row.integer("id")
        }
    }

    public func list(_ filter: Filter, limit: Int = 500) throws -> [Letter] {
        var conditions: [String] = []
        var values: [StoreValue] = []
        for (column, value) in [("type", filter.type), ("sender", filter.sender), ("check_name", filter.check), ("status", filter.status?.rawValue)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            values.append(.text(value))
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try database.read { session in
            try session.query("SELECT * FROM dead_letter \(whereClause) ORDER BY id DESC LIMIT ?", values + [.integer(limit)])
                .map(Self.letter)
        }
    }

    /// How many wait for an operator (without reading their bodies).
    public func waitingCount() throws -> Int {
        try database.read { session in
            Int(
                try session.queryOne(
                    "SELECT COUNT(*) AS n FROM dead_letter WHERE status = ?", [.text(DeadLetterStatus.waiting.rawValue)]
                )?.integer("n") ?? 0)
        }
    }

    public func letter(_ id: Int64) throws -> Letter? {
        try database.read { session in
            try session.queryOne("SELECT * FROM dead_letter WHERE id = ?", [.integer(id)]).map(Self.letter)
        }
    }

    public func mark(_ id: Int64, status: DeadLetterStatus) throws {
        try database.write { session in
            try session.execute("UPDATE dead_letter SET status = ? WHERE id = ?", [.text(status.rawValue), .integer(id)])
        }
    }

    private static func status(_ text: String) throws -> DeadLetterStatus {
        guard let status = DeadLetterStatus(rawValue: text) else {
            throw StoreError.failed("a dead letter's status is '\(text)', none of \(DeadLetterStatus.allCases.map(\.rawValue))")
        }
        return status
    }

    private static func letter(_ row: StoreRow) throws -> Letter {
        Letter(
            id: try row.integer("id"), messageID: try row.text("message_id"), type: try row.text("type"),
            sender: try row.text("sender"), correlationID: try row.text("correlation_id"), check: try row.text("check_name"),
            reason: try row.text("reason"), at: try row.date("at"), attempts: Int(try row.integer("attempts")),
            origin: try row.text("origin"), properties: try row.blob("properties"), body: try row.blob("body"),
            status: try status(row.text("status")))
    }
}
