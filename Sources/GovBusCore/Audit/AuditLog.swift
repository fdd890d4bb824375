public import Foundation
import GRDB

/// The core's append-only, hash-chained audit log, in SQLite. Triggers refuse any change but the
/// removal of a body past its retention; `verify` recomputes the chain and names the first record
/// that does not hold.
public final class AuditLog: Sendable {
    private let database: DatabasePool
    public let path: String

    public struct VerificationResult: Sendable, Hashable {
        public let records: Int
        /// The first record that breaks the chain, and why; nil when the chain holds.
        public let firstBroken: (sequence: Int64, reason: String)?

        public static func == (left: Self, right: Self) -> Bool {
            left.records == right.records && left.firstBroken?.sequence == right.firstBroken?.sequence
                && left.firstBroken?.reason == right.firstBroken?.reason
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(records)
            hasher.combine(firstBroken?.sequence)
        }
    }

    public init(path: String) throws {
        self.path = path
        // The console appends operators' actions while the core appends messages: each waits its turn.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        database = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("audit log v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE audit_record (
                        sequence INTEGER PRIMARY KEY,
                        recorded_at DOUBLE NOT NULL,
                        kind TEXT NOT NULL,
                        message_id TEXT NOT NULL,
                        type TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        receivers TEXT NOT NULL,
                        correlation_id TEXT NOT NULL,
                        body_sha256 TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        body BLOB,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL UNIQUE
                    );
                    CREATE INDEX audit_record_correlation ON audit_record(correlation_id);
                    CREATE INDEX audit_record_message ON audit_record(message_id);
                    CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record
                    WHEN NOT (NEW.body IS NULL AND NEW.sequence = OLD.sequence AND NEW.hash = OLD.hash
                              AND NEW.recorded_at = OLD.recorded_at AND NEW.message_id = OLD.message_id
                              AND NEW.type = OLD.type AND NEW.sender = OLD.sender AND NEW.receivers = OLD.receivers
                              AND NEW.correlation_id = OLD.correlation_id AND NEW.body_sha256 = OLD.body_sha256
                              AND NEW.signature = OLD.signature AND NEW.previous_hash = OLD.previous_hash
                              AND NEW.kind = OLD.kind)
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                    """)
        }
        migrator.registerMigration("audit log v2: time index") { db in
            // The console's figures of the last hour (throughput, adapters' messages) read by time.
            try db.execute(sql: "CREATE INDEX audit_record_time ON audit_record(recorded_at)")
        }
        return migrator
    }

    /// What a record says before the log numbers and chains it.
    public struct Entry: Sendable {
        public var kind: AuditRecord.Kind = .message
        public var messageID: String
        public var type: String
        public var sender: String
        public var receivers: [String]
        public var correlationID: String
        public var body: Data
        public var signature: String

        public init(
            kind: AuditRecord.Kind = .message, messageID: String, type: String, sender: String, receivers: [String],
            correlationID: String, body: Data, signature: String
        ) {
            self.kind = kind
            self.messageID = messageID
            self.type = type
            self.sender = sender
            self.receivers = receivers
            self.correlationID = correlationID
            self.body = body
            self.signature = signature
        }
    }

    /// Appends a record after the last one, in one transaction, and returns it.
    @discardableResult
    public func append(
        kind: AuditRecord.Kind = .message, messageID: String, type: String, sender: String, receivers: [String],
        correlationID: String, body: Data, signature: String, at now: Date = Date()
    ) throws -> AuditRecord {
        try append(
            [
                Entry(
                    kind: kind, messageID: messageID, type: type, sender: sender, receivers: receivers,
                    correlationID: correlationID, body: body, signature: signature)
            ], at: now)[0]
    }

    /// Appends records after the last one, in this order, in one transaction (one commit for a
    /// batch of messages is what lets the core keep up), and returns them.
    @discardableResult
    public func append(_ entries: [Entry], at now: Date = Date()) throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        // Milliseconds: what the hash covers, so that a re-read record hashes the same.
        let recordedAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded() / 1000)
        let digests = entries.map { AuditRecord.hexDigest($0.body) }
        return try database.write { db in
            let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1")
            var sequence: Int64 = last?["sequence"] ?? 0
            var previous: String = last?["hash"] ?? AuditRecord.genesis
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO audit_record (sequence, recorded_at, kind, message_id, type, sender, receivers,
                        correlation_id, body_sha256, signature, body, previous_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var records: [AuditRecord] = []
            for (entry, bodyDigest) in zip(entries, digests) {
                sequence += 1
                let hash = AuditRecord.hash(
                    sequence: sequence, recordedAt: recordedAt, kind: entry.kind, messageID: entry.messageID,
                    type: entry.type, sender: entry.sender, receivers: entry.receivers, correlationID: entry.correlationID,
                    bodySHA256: bodyDigest, signature: entry.signature, previousHash: previous)
                try insert.execute(arguments: [
                    sequence, recordedAt.timeIntervalSince1970, entry.kind.rawValue, entry.messageID, entry.type,
                    entry.sender, entry.receivers.joined(separator: ","), entry.correlationID, bodyDigest, entry.signature,
                    entry.body, previous, hash,
                ])
                records.append(
                    AuditRecord(
                        sequence: sequence, recordedAt: recordedAt, kind: entry.kind, messageID: entry.messageID,
                        type: entry.type, sender: entry.sender, receivers: entry.receivers,
                        correlationID: entry.correlationID, bodySHA256: bodyDigest, signature: entry.signature,
                        body: entry.body, previousHash: previous, hash: hash))
                previous = hash
            }
            return records
        }
    }

    /// The records of one dossier, in order.
    public func records(correlationID: String) throws -> [AuditRecord] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM audit_record WHERE correlation_id = ? ORDER BY sequence", arguments: [correlationID]
            ).map(Self.record)
        }
    }

    /// Those of the messages that are recorded already (a message delivered again after a crash),
    /// by sender and message id, in one read.
    public func recorded(among keys: [MessageKey]) throws -> Set<MessageKey> {
        guard !keys.isEmpty else { return [] }
        return try database.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT 1 FROM audit_record WHERE message_id = ? AND sender = ? LIMIT 1")
            var found: Set<MessageKey> = []
            for key in keys where try Bool.fetchOne(statement, arguments: [key.messageID, key.sender]) ?? false {
                found.insert(key)
            }
            return found
        }
    }

    /// The record of a message that `sender` sent (the core's request a reply names), if any.
    public func record(messageID: String, sentBy sender: String) throws -> AuditRecord? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM audit_record WHERE message_id = ? AND sender = ? ORDER BY sequence LIMIT 1",
                arguments: [messageID, sender]
            ).map(Self.record)
        }
    }

    /// Drops the bodies recorded before `date`; the chain still verifies (it covers their digests).
    @discardableResult
    public func removeBodies(recordedBefore date: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                sql: "UPDATE audit_record SET body = NULL WHERE recorded_at < ? AND body IS NOT NULL",
                arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// The last record's number and hash ((0, genesis) for an empty log): what a checkpoint signs.
    public func head() throws -> (sequence: Int64, hash: String) {
        try database.read { db -> (sequence: Int64, hash: String) in
            let last = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1")
            let sequence: Int64 = last?["sequence"] ?? 0
            let hash: String = last?["hash"] ?? AuditRecord.genesis
            return (sequence, hash)
        }
    }

    /// The hashes of the records with these numbers, those that exist, in one read.
    public func hashes(of sequences: [Int64]) throws -> [Int64: String] {
        guard !sequences.isEmpty else { return [:] }
        return try database.read { db in
            let statement = try db.cachedStatement(sql: "SELECT hash FROM audit_record WHERE sequence = ?")
            var hashes: [Int64: String] = [:]
            for sequence in Set(sequences) {
                if let hash = try String.fetchOne(statement, arguments: [sequence]) { hashes[sequence] = hash }
            }
            return hashes
        }
    }

    /// Walks the chain from the first record and names the first one that does not hold.
    public func verify() throws -> VerificationResult {
        try database.read { db in
            var previous = AuditRecord.genesis
            var expectedSequence: Int64 = 1
            var count = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit_record ORDER BY sequence")
            while let row = try cursor.next() {
                let record = Self.record(row)
                count += 1
                if record.sequence != expectedSequence {
                    return VerificationResult(
                        records: count,
                        firstBroken: (expectedSequence, "record \(expectedSequence) is missing (next is \(record.sequence))"))
                }
                if record.previousHash != previous {
                    return VerificationResult(
                        records: count, firstBroken: (record.sequence, "it does not point to the hash of the record before"))
                }
                if record.recomputedHash != record.hash {
                    return VerificationResult(
                        records: count, firstBroken: (record.sequence, "its content does not match its hash (it was changed)"))
                }
                if let body = record.body,
                    AuditRecord.hexDigest(body) != record.bodySHA256
                {
                    return VerificationResult(
                        records: count, firstBroken: (record.sequence, "its body does not match its digest (it was changed)"))
                }
                previous = record.hash
                expectedSequence += 1
            }
            return VerificationResult(records: count, firstBroken: nil)
        }
    }

    private static func record(_ row: Row) -> AuditRecord {
        let receivers: String = row["receivers"]
        return AuditRecord(
            sequence: row["sequence"], recordedAt: Date(timeIntervalSince1970: row["recorded_at"]),
            kind: AuditRecord.Kind(rawValue: row["kind"]) ?? .message, messageID: row["message_id"], type: row["type"],
            sender: row["sender"], receivers: receivers.isEmpty ? [] : receivers.split(separator: ",").map(String.init),
            correlationID: row["correlation_id"], bodySHA256: row["body_sha256"], signature: row["signature"],
            body: row["body"], previousHash: row["previous_hash"], hash: row["hash"])
    }
}
