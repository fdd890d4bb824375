public import AMQP
import Foundation
import GRDB

/// The dead letters, taken off `govbus.dead-letters` into SQLite so that an operator can look at
/// them, replay them to where they were going, or discard them, one by one or by a filter, with
/// every action kept. Every replay goes through the core's queue, to be checked again: a letter an
/// adapter rejected (the inbox's dead-lettering) names that adapter in `govbus-replay-to`, and the
/// core sends it back there only if it still passes.
final class DeadLetterArchive: Sendable {
    struct Letter: Codable, Sendable {
        var id: Int64
        var messageId: String
        var type: String
        var sender: String
        var correlationId: String
        /// The check that failed, or "rejected by <queue>" for an adapter's rejection.
        var check: String
        var reason: String
        var at: Date
        var attempts: Int
        /// Where a replay sends it.
        var origin: String
        var status: String
        var body: String
    }

    struct Filter: Sendable {
        var type: String?
        var sender: String?
        var check: String?
        var status: String? = "waiting"
    }

    private let database: DatabaseQueue

    init(path: String) throws {
        database = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("dead letters v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE dead_letter (
                        id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, type TEXT NOT NULL,
                        sender TEXT NOT NULL, correlation_id TEXT NOT NULL, check_name TEXT NOT NULL, reason TEXT NOT NULL,
                        at DOUBLE NOT NULL, attempts INTEGER NOT NULL, origin TEXT NOT NULL, properties BLOB NOT NULL,
                        body BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'waiting');
                    CREATE INDEX dead_letter_status ON dead_letter(status);
                    """)
        }
        try migrator.migrate(database)
    }

    /// Keeps a dead letter (its delivery is acked once it is stored).
    func store(properties: AMQPProperties, body: [UInt8]) throws {
        let headers = properties.headers ?? [:]
        let death = headers["x-death"].flatMap { value -> AMQPTable? in
            if case .array(let deaths) = value, case .table(let first)? = deaths.first { return first }
            return nil
        }
        let deadQueue = death?["queue"]?.stringValue
        let check = headers["govbus-error-check"]?.stringValue ?? deadQueue.map { "rejected by \($0)" } ?? "unknown"
        let reason =
            headers["govbus-error-reason"]?.stringValue ?? death?["reason"]?.stringValue.map(Self.describeDeath)
            ?? "no reason given"
        let origin = headers["govbus-error-where"]?.stringValue == "core" ? "govbus.core.ingress" : (deadQueue ?? "govbus.core.ingress")
        let stored = StoredProperties(properties)
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO dead_letter (message_id, type, sender, correlation_id, check_name, reason, at, attempts, origin,
                        properties, body)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    properties.messageID ?? "", properties.type ?? "",
                    headers["govbus-sender"]?.stringValue ?? properties.userID ?? "", properties.correlationID ?? "", check,
                    reason, Date().timeIntervalSince1970, Int(headers["govbus-attempt"]?.integerValue ?? 1), origin,
                    try JSONEncoder().encode(stored), Data(body),
                ])
        }
    }

    /// The broker's reason for a dead-lettering (`x-death`), for people.
    static func describeDeath(_ reason: String) -> String {
        switch reason {
        case "rejected": "the consumer rejected it"
        case "delivery_limit": "delivered too many times without being settled (the queue's delivery limit)"
        case "expired": "it expired"
        case "maxlen": "the queue was full"
        default: reason
        }
    }

    func list(_ filter: Filter, limit: Int = 500) throws -> [Letter] {
        try database.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            for (column, value) in [("type", filter.type), ("sender", filter.sender), ("check_name", filter.check), ("status", filter.status)] {
                guard let value else { continue }
                conditions.append("\(column) = ?")
                _ = arguments.append(contentsOf: [value])
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM dead_letter \(whereClause) ORDER BY id DESC LIMIT ?", arguments: arguments + [limit]
            ).map(Self.letter)
        }
    }

    /// How many wait for an operator (for the overview, without reading their bodies).
    func waitingCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dead_letter WHERE status = 'waiting'") ?? 0 }
    }

    func letter(_ id: Int64) throws -> Letter? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dead_letter WHERE id = ?", arguments: [id]).map(Self.letter)
        }
    }

    /// The letter as it can be published again, to the core's queue: its properties without the
    /// dead-lettering's headers, and the inbox's adapter it goes back to, if an adapter rejected it.
    func message(_ id: Int64, body: Data? = nil) throws -> (message: AMQPMessage, origin: String)? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT properties, body, origin FROM dead_letter WHERE id = ?", arguments: [id])
            else { return nil }
            let stored = try JSONDecoder().decode(StoredProperties.self, from: row["properties"] as Data)
            var message = AMQPMessage(body: Array(body ?? row["body"]), properties: stored.properties)
            let origin: String = row["origin"]
            if origin.hasPrefix(Self.inboxPrefix) {
                message.properties.headers?["govbus-replay-to"] = .string(String(origin.dropFirst(Self.inboxPrefix.count)))
            }
            return (message, Self.coreQueue)
        }
    }

    static let coreQueue = "govbus.core.ingress"
    static let inboxPrefix = "govbus.adapter."

    func mark(_ id: Int64, status: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE dead_letter SET status = ? WHERE id = ?", arguments: [status, id])
        }
    }

    private static func letter(_ row: Row) -> Letter {
        Letter(
            id: row["id"], messageId: row["message_id"], type: row["type"], sender: row["sender"],
            correlationId: row["correlation_id"], check: row["check_name"], reason: row["reason"],
            at: Date(timeIntervalSince1970: row["at"]), attempts: row["attempts"], origin: row["origin"], status: row["status"],
            body: String(decoding: row["body"] as Data, as: UTF8.self))
    }
}

/// The properties a replay needs, as JSON: the envelope's fields and the string headers (the
/// signature, its key, the first sender, the causation); not the dead-lettering's own headers.
struct StoredProperties: Codable, Sendable {
    var contentType: String?
    var correlationID: String?
    var messageID: String?
    var type: String?
    var userID: String?
    var appID: String?
    var timestamp: Date?
    var headers: [String: String]

    init(_ properties: AMQPProperties) {
        contentType = properties.contentType
        correlationID = properties.correlationID
        messageID = properties.messageID
        type = properties.type
        userID = properties.userID
        appID = properties.appID
        timestamp = properties.timestamp
        var headers: [String: String] = [:]
        for (name, value) in properties.headers ?? [:]
        where !name.hasPrefix("govbus-error-") && !name.hasPrefix("x-") && name != "govbus-attempt" && name != "govbus-replay-to" {
            if let text = value.stringValue { headers[name] = text }
        }
        self.headers = headers
    }

    var properties: AMQPProperties {
        AMQPProperties(
            contentType: contentType, headers: headers.mapValues { .string($0) }, deliveryMode: .persistent,
            correlationID: correlationID, messageID: messageID, timestamp: timestamp, type: type, userID: userID, appID: appID)
    }
}
