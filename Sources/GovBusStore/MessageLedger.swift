public import Foundation

/// The messages the core has handled, by sender and message id, so that a message delivered again
/// (a retry, a replay after a crash, a partition taken over by another core) is routed once only.
/// A message is handled once its outputs are confirmed.
public final class MessageLedger: Sendable {
    private let database: StoreDatabase

    public init(_ location: StoreLocation) throws {
        database = try StoreDatabase(location, name: "ledger", migrations: Self.migrations)
    }

    public init(path: String) throws {
        database = try StoreDatabase(sqliteFile: path, migrations: Self.migrations)
    }

    static let migrations: [StoreMigration] = [
        StoreMigration(
            "ledger v1",
            sqlite: "CREATE TABLE handled_message (message_id TEXT PRIMARY KEY, handled_at DOUBLE NOT NULL)",
            postgres: nil),
        // Version 1 keyed the ledger on the message id alone, whoever sent it: one adapter could
        // pre-claim another's id. Its rows keep an empty sender, which no lookup matches.
        StoreMigration(
            "ledger v2: per sender",
            sqlite: """
                CREATE TABLE handled_by_sender (
                    sender TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    handled_at DOUBLE NOT NULL,
                    PRIMARY KEY (sender, message_id)
                ) WITHOUT ROWID;
                INSERT INTO handled_by_sender SELECT '', message_id, handled_at FROM handled_message;
                DROP TABLE handled_message;
                """,
            postgres: [
                """
                CREATE TABLE handled_by_sender (
                    sender TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    handled_at DOUBLE PRECISION NOT NULL,
                    PRIMARY KEY (sender, message_id)
                )
                """
            ]),
    ]

    /// Those of the messages that are handled, in one read.
    public func handled(among keys: [MessageKey]) throws -> Set<MessageKey> {
        guard !keys.isEmpty else { return [] }
        return try database.read { session in
            try MessageKey.found(in: "handled_by_sender", keys, session: session)
        }
    }

    /// Marks messages handled, in one transaction.
    public func markHandled(_ keys: [MessageKey], at now: Date = Date()) throws {
        guard !keys.isEmpty else { return }
        try database.write { session in
            try session.execute(
                """
                INSERT INTO handled_by_sender (sender, message_id, handled_at)
                VALUES \(Array(repeating: "(?, ?, ?)", count: keys.count).joined(separator: ", "))
                ON CONFLICT (sender, message_id) DO NOTHING
                """,
                keys.flatMap { [.text($0.sender), .text($0.messageID), .date(now)] })
        }
    }
}
