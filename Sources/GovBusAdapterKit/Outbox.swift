public import Foundation
import GRDB
public import GovBusTelemetry

/// What an adapter has to publish, kept in SQLite until the broker confirms it (and the ids of
/// the inbox messages it has handled, so that a redelivery is not handled twice): a webhook or a
/// callback is stored here before the HTTP answer, so nothing is lost while the broker is away or
/// the adapter restarts. A message id stored twice (a repeated IPN) is stored once. The store
/// commits with a full sync (write-ahead log, `synchronous = FULL`): the HTTP answer promises the
/// message is safe. Messages and inbox records stored at the same time share a transaction and
/// its sync (see `GroupCommit`).
public final class Outbox: Sendable {
    public struct Entry: Sendable, Hashable {
        public let sequence: Int64
        public let messageID: String
        public let type: String
        public let correlationID: String
        public let causationID: String?
        public let body: Data
        /// The trace the message was made in, which its publication continues.
        public var trace: TraceHeaders? = nil
    }

    private let database: DatabasePool
    private let stored = WakeSignal()
    private let writes: GroupCommit<Write, Bool>

    /// What goes through the group commit.
    private enum Write: Sendable {
        case message(
            messageID: String, type: String, correlationID: String, causationID: String?, body: Data, trace: TraceHeaders?)
        case handledInbox(messageID: String)
    }

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL's default is NORMAL on some builds: a commit must reach the disk before it returns.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let database = try DatabasePool(path: path, configuration: configuration)
        self.database = database
        writes = GroupCommit(label: "govbus outbox \(path)") { batch in
            try database.write { db in try batch.map { try Self.apply($0, in: db) } }
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("outbox v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE outbox (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        message_id TEXT NOT NULL UNIQUE,
                        type TEXT NOT NULL,
                        correlation_id TEXT NOT NULL,
                        causation_id TEXT,
                        body BLOB NOT NULL,
                        stored_at DOUBLE NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("handled inbox v1") { db in
            try db.execute(
                sql: "CREATE TABLE handled_inbox (message_id TEXT PRIMARY KEY, handled_at DOUBLE NOT NULL)")
        }
        migrator.registerMigration("outbox trace v1") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN traceparent TEXT")
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN tracestate TEXT")
        }
        try migrator.migrate(database)
        // A redelivery comes within minutes; a week of ids is plenty.
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM handled_inbox WHERE handled_at < ?", arguments: [Date().timeIntervalSince1970 - 7 * 86400])
        }
    }

    /// Whether an inbox message was handled before: the broker delivers again what it did not
    /// hear acked (a lost connection), and the external system must not hear it twice.
    public func wasHandled(inboxMessage messageID: String) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM handled_inbox WHERE message_id = ?", arguments: [messageID]) ?? false
        }
    }

    public func markHandled(inboxMessage messageID: String) async throws {
        _ = try await writes.write(.handledInbox(messageID: messageID))
    }

    /// Stores a message to publish; false when that message id was stored before.
    @discardableResult
    public func store(
        messageID: String, type: String, correlationID: String, causationID: String?, body: Data, trace: TraceHeaders? = nil
    ) async throws -> Bool {
        let inserted = try await writes.write(
            .message(
                messageID: messageID, type: type, correlationID: correlationID, causationID: causationID, body: body,
                trace: trace))
        stored.signal()
        return inserted
    }

    /// One write, inside the group's transaction; whether it changed anything.
    private static func apply(_ write: Write, in db: Database) throws -> Bool {
        switch write {
        case .message(let messageID, let type, let correlationID, let causationID, let body, let trace):
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO outbox
                        (message_id, type, correlation_id, causation_id, body, stored_at, traceparent, tracestate)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                messageID, type, correlationID, causationID, body, Date().timeIntervalSince1970, trace?.parent, trace?.state,
            ])
        case .handledInbox(let messageID):
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO handled_inbox (message_id, handled_at) VALUES (?, ?)")
                .execute(arguments: [messageID, Date().timeIntervalSince1970])
        }
        return db.changesCount > 0
    }

    /// The oldest entries, in order.
    public func pending(limit: Int = 100) throws -> [Entry] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY sequence LIMIT ?", arguments: [limit]).map { row in
                Entry(
                    sequence: row["sequence"], messageID: row["message_id"], type: row["type"],
                    correlationID: row["correlation_id"], causationID: row["causation_id"], body: row["body"],
                    trace: TraceHeaders(parent: row["traceparent"], state: row["tracestate"]))
            }
        }
    }

    public var count: Int {
        get throws { try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 } }
    }

    /// Removes what the broker has confirmed.
    public func remove(through sequence: Int64) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM outbox WHERE sequence <= ?", arguments: [sequence])
        }
    }

    /// Waits until something is stored or `timeout` passes.
    func waitForEntries(timeout: Duration) async {
        await stored.wait(timeout: timeout)
    }
}
