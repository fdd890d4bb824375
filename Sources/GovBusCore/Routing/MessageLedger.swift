import Foundation
import GRDB

/// The message ids the core has handled, so that a message delivered again (a retry, a replay
/// after a crash) is routed once only. A message is `done` once its outputs are confirmed.
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
        try migrator.migrate(database)
    }

    func isHandled(_ messageID: String) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM handled_message WHERE message_id = ?", arguments: [messageID]) ?? false
        }
    }

    func markHandled(_ messageID: String, at now: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO handled_message (message_id, handled_at) VALUES (?, ?)",
                arguments: [messageID, now.timeIntervalSince1970])
        }
    }
}
