import Foundation
import GRDB

/// The messages the core has handled, by sender and message id, so that a message delivered again
/// (a retry, a replay after a crash) is routed once only. A message is `done` once its outputs are
/// confirmed.
final class MessageLedger: Sendable {
    private let database: DatabasePool

    init(path: String) throws {
        database = try DatabasePool(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("ledger v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE handled_message (
                        message_id TEXT PRIMARY KEY,
                        handled_at DOUBLE NOT NULL
                    )
                    """)
        }
        // Version 1 keyed the ledger on the message id alone, whoever sent it: one adapter could
        // pre-claim another's id. Its rows keep an empty sender, which no lookup matches.
        migrator.registerMigration("ledger v2: per sender") { db in
            try db.execute(
                sql: """
                    CREATE TABLE handled_by_sender (
                        sender TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        handled_at DOUBLE NOT NULL,
                        PRIMARY KEY (sender, message_id)
                    ) WITHOUT ROWID;
                    INSERT INTO handled_by_sender SELECT '', message_id, handled_at FROM handled_message;
                    DROP TABLE handled_message;
                    """)
        }
        try migrator.migrate(database)
    }

    /// Those of the messages that are handled, in one read.
    func handled(among keys: [MessageKey]) throws -> Set<MessageKey> {
        guard !keys.isEmpty else { return [] }
        return try database.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT 1 FROM handled_by_sender WHERE sender = ? AND message_id = ?")
            var found: Set<MessageKey> = []
            for key in keys where try Bool.fetchOne(statement, arguments: [key.sender, key.messageID]) ?? false {
                found.insert(key)
            }
            return found
        }
    }

    /// Marks messages handled, in one transaction.
    func markHandled(_ keys: [MessageKey], at now: Date = Date()) throws {
        guard !keys.isEmpty else { return }
        try database.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO handled_by_sender (sender, message_id, handled_at) VALUES (?, ?, ?)")
            for key in keys { try insert.execute(arguments: [key.sender, key.messageID, now.timeIntervalSince1970]) }
        }
    }
}
