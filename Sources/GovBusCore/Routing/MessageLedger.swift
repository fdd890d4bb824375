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
        try !handled(among: [messageID]).isEmpty
    }

    /// Those of the message ids that are handled, in one read.
    func handled(among messageIDs: [String]) throws -> Set<String> {
        guard !messageIDs.isEmpty else { return [] }
        return try database.read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM handled_message WHERE message_id = ?")
            var found: Set<String> = []
            for messageID in messageIDs where try Bool.fetchOne(statement, arguments: [messageID]) ?? false {
                found.insert(messageID)
            }
            return found
        }
    }

    /// Marks message ids handled, in one transaction.
    func markHandled(_ messageIDs: [String], at now: Date = Date()) throws {
        guard !messageIDs.isEmpty else { return }
        try database.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO handled_message (message_id, handled_at) VALUES (?, ?)")
            for messageID in messageIDs { try insert.execute(arguments: [messageID, now.timeIntervalSince1970]) }
        }
    }
}
