public import Foundation

/// The core's append-only, hash-chained audit log. The database refuses any change but the removal
/// of a body past its retention (triggers); `verify` recomputes the chain and names the first
/// record that does not hold. Several cores append to one chain, one transaction at a time (a
/// lock on the chain's head), so that it stays one history in the order recorded.
public final class AuditLog: Sendable {
    private let database: StoreDatabase

    /// Where the log is, for messages.
    public var location: String { database.path ?? database.location.description }

    public struct VerificationResult: Sendable, Hashable {
        public let records: Int
        /// The first record that breaks the chain, and why; nil when the chain holds.
        public let firstBroken: (sequence: Int64, reason: String)?
        /// The last record that holds, to go on from (when the chain holds).
        public let last: (sequence: Int64, hash: String)?

        public init(records: Int, firstBroken: (sequence: Int64, reason: String)?, last: (sequence: Int64, hash: String)? = nil) {
            self.records = records
            self.firstBroken = firstBroken
            self.last = last
        }

        public static func == (left: Self, right: Self) -> Bool {
            left.records == right.records && left.firstBroken?.sequence == right.firstBroken?.sequence
                && left.firstBroken?.reason == right.firstBroken?.reason
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(records)
            hasher.combine(firstBroken?.sequence)
        }
    }

    public init(_ location: StoreLocation, readOnly: Bool = false) throws {
        database = try StoreDatabase(location, name: "audit", migrations: Self.migrations, readOnly: readOnly)
    }

    /// The log in one SQLite file (tools and tests that name the file).
    public init(path: String) throws {
        database = try StoreDatabase(sqliteFile: path, migrations: Self.migrations)
    }

    static let migrations: [StoreMigration] = [
        StoreMigration(
            "audit log v1",
            sqlite: """
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
                """,
            postgres: [
                """
                CREATE TABLE audit_record (
                    sequence BIGINT PRIMARY KEY,
                    recorded_at DOUBLE PRECISION NOT NULL,
                    kind TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    sender TEXT NOT NULL,
                    receivers TEXT NOT NULL,
                    correlation_id TEXT NOT NULL,
                    body_sha256 TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    body BYTEA,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE
                )
                """,
                "CREATE INDEX audit_record_correlation ON audit_record(correlation_id)",
                "CREATE INDEX audit_record_message ON audit_record(message_id, sender)",
                "CREATE INDEX audit_record_time ON audit_record(recorded_at)",
                """
                CREATE FUNCTION audit_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND NEW.body IS NULL
                        AND (NEW.sequence, NEW.recorded_at, NEW.kind, NEW.message_id, NEW.type, NEW.sender, NEW.receivers,
                             NEW.correlation_id, NEW.body_sha256, NEW.signature, NEW.previous_hash, NEW.hash)
                        IS NOT DISTINCT FROM
                            (OLD.sequence, OLD.recorded_at, OLD.kind, OLD.message_id, OLD.type, OLD.sender, OLD.receivers,
                             OLD.correlation_id, OLD.body_sha256, OLD.signature, OLD.previous_hash, OLD.hash)
                    THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION 'the audit log is append-only';
                END
                $$
                """,
                """
                CREATE TRIGGER audit_record_append_only BEFORE UPDATE OR DELETE ON audit_record
                FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()
                """,
                """
                CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
                FOR EACH STATEMENT EXECUTE FUNCTION audit_record_append_only()
                """,
            ]),
        // The console's figures of the last hour (throughput, adapters' messages) read by time.
        StoreMigration(
            "audit log v2: time index", sqlite: "CREATE INDEX audit_record_time ON audit_record(recorded_at)", postgres: nil),
    ]

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
    /// batch of messages is what lets the core keep up), and returns them. `unlessRecorded`
    /// leaves out the entries whose sender and message id a record holds already (a message
    /// delivered again, perhaps to another core), checked under the chain's lock.
    @discardableResult
    public func append(_ entries: [Entry], at now: Date = Date(), unlessRecorded: Bool = false) throws -> [AuditRecord] {
        guard !entries.isEmpty else { return [] }
        return try database.write { session in
            try session.lock("govbus audit chain")
            var entries = entries
            if unlessRecorded {
                let recorded = try MessageKey.found(
                    in: "audit_record", entries.map { MessageKey(sender: $0.sender, messageID: $0.messageID) }, session: session)
                entries.removeAll { recorded.contains(MessageKey(sender: $0.sender, messageID: $0.messageID)) }
                if entries.isEmpty { return [] }
            }
            let last = try session.queryOne(
                "SELECT sequence, hash, recorded_at FROM audit_record ORDER BY sequence DESC LIMIT 1", [])
            var sequence: Int64 = try last?.integer("sequence") ?? 0
            var previous: String = try last?.text("hash") ?? AuditRecord.genesis
            // Milliseconds: what the hash covers, so that a re-read record hashes the same. Never
            // before the last record, whichever core's clock wrote it.
            let milliseconds = max(
                (now.timeIntervalSince1970 * 1000).rounded(), ((try last?.real("recorded_at") ?? 0) * 1000).rounded())
            let recordedAt = Date(timeIntervalSince1970: milliseconds / 1000)
            let digests = entries.map { AuditRecord.hexDigest($0.body) }
            var records: [AuditRecord] = []
            var values: [StoreValue] = []
            for (entry, bodyDigest) in zip(entries, digests) {
                sequence += 1
                let hash = AuditRecord.hash(
                    sequence: sequence, recordedAt: recordedAt, kind: entry.kind, messageID: entry.messageID,
                    type: entry.type, sender: entry.sender, receivers: entry.receivers, correlationID: entry.correlationID,
                    bodySHA256: bodyDigest, signature: entry.signature, previousHash: previous)
                values += [
                    .integer(sequence), .date(recordedAt), .text(entry.kind.rawValue), .text(entry.messageID),
                    .text(entry.type), .text(entry.sender), .text(entry.receivers.joined(separator: ",")),
                    .text(entry.correlationID), .text(bodyDigest), .text(entry.signature), .blob(entry.body),
                    .text(previous), .text(hash),
                ]
                records.append(
                    AuditRecord(
                        sequence: sequence, recordedAt: recordedAt, kind: entry.kind, messageID: entry.messageID,
                        type: entry.type, sender: entry.sender, receivers: entry.receivers,
                        correlationID: entry.correlationID, bodySHA256: bodyDigest, signature: entry.signature,
                        body: entry.body, previousHash: previous, hash: hash))
                previous = hash
            }
            // One statement for the batch: on PostgreSQL each statement is a round trip.
            try session.execute(
                """
                INSERT INTO audit_record (sequence, recorded_at, kind, message_id, type, sender, receivers,
                    correlation_id, body_sha256, signature, body, previous_hash, hash)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: entries.count).joined(separator: ", "))
                """, values)
            return records
        }
    }

    /// The records of one dossier, in order.
    public func records(correlationID: String) throws -> [AuditRecord] {
        try database.read { session in
            try session.query(
                "SELECT * FROM audit_record WHERE correlation_id = ? ORDER BY sequence", [.text(correlationID)]
            ).map(AuditRecord.init(row:))
        }
    }

    /// Those of the messages that are recorded already (a message delivered again after a crash),
    /// by sender and message id, in one read.
    public func recorded(among keys: [MessageKey]) throws -> Set<MessageKey> {
        guard !keys.isEmpty else { return [] }
        return try database.read { session in
            try MessageKey.found(in: "audit_record", keys, session: session)
        }
    }

    /// The record of a message that `sender` sent (the core's request a reply names), if any.
    public func record(messageID: String, sentBy sender: String) throws -> AuditRecord? {
        try database.read { session in
            try session.queryOne(
                "SELECT * FROM audit_record WHERE message_id = ? AND sender = ? ORDER BY sequence LIMIT 1",
                [.text(messageID), .text(sender)]
            ).map(AuditRecord.init(row:))
        }
    }

    /// The last record of a type from a sender (an adapter's last heartbeat).
    public func lastRecord(type: String, sentBy sender: String) throws -> AuditRecord? {
        try database.read { session in
            try session.queryOne(
                "SELECT * FROM audit_record WHERE type = ? AND sender = ? ORDER BY sequence DESC LIMIT 1",
                [.text(type), .text(sender)]
            ).map(AuditRecord.init(row:))
        }
    }

    /// How many messages a sender sent since a time, one type left out (heartbeats).
    public func count(sentBy sender: String, since: Date, excluding type: String) throws -> Int {
        try database.read { session in
            Int(
                try session.queryOne(
                    "SELECT COUNT(*) AS n FROM audit_record WHERE sender = ? AND recorded_at >= ? AND type != ?",
                    [.text(sender), .date(since), .text(type)]
                )?.integer("n") ?? 0)
        }
    }

    /// How many messages went to a receiver since a time.
    public func count(receivedBy receiver: String, since: Date) throws -> Int {
        try database.read { session in
            Int(
                try session.queryOne(
                    "SELECT COUNT(*) AS n FROM audit_record WHERE recorded_at >= ? AND (',' || receivers || ',') LIKE ?",
                    [.date(since), .text("%,\(receiver),%")]
                )?.integer("n") ?? 0)
        }
    }

    /// What records are counted by, beside their minute.
    public enum Grouping: String, Sendable {
        case type, sender
    }

    /// Records per minute since a time, by type or by sender, one type left out (heartbeats):
    /// `key` is the type or the sender.
    public func countsPerMinute(
        by grouping: Grouping, since: Date, excluding type: String
    ) throws -> [(minute: Date, key: String, count: Int)] {
        try database.read { session in
            let minute =
                session.dialect == .postgres ? "FLOOR(recorded_at / 60) * 60" : "CAST(recorded_at / 60 AS INTEGER) * 60"
            // The column is one of the enum's names, never text from outside.
            let column = grouping.rawValue
            return try session.query(
                """
                SELECT \(minute) AS minute, \(column) AS key, COUNT(*) AS n FROM audit_record
                WHERE recorded_at >= ? AND type != ? GROUP BY 1, \(column) ORDER BY 1
                """, [.date(since), .text(type)]
            ).map { row in (try row.date("minute"), try row.text("key"), Int(try row.integer("n"))) }
        }
    }

    /// Drops the bodies recorded before `date`; the chain still verifies (it covers their digests).
    @discardableResult
    public func removeBodies(recordedBefore date: Date) throws -> Int {
        try database.write { session in
            try session.execute(
                "UPDATE audit_record SET body = NULL WHERE recorded_at < ? AND body IS NOT NULL", [.date(date)])
        }
    }

    /// The last record's number but of the type `type` (0 when there is none).
    public func lastSequence(excluding type: String) throws -> Int64 {
        try database.read { session in
            try session.queryOne(
                "SELECT sequence FROM audit_record WHERE type != ? ORDER BY sequence DESC LIMIT 1", [.text(type)]
            )?.integer("sequence") ?? 0
        }
    }

    /// The last record's number and hash ((0, genesis) for an empty log): what a checkpoint signs.
    public func head() throws -> (sequence: Int64, hash: String) {
        try database.read { session -> (sequence: Int64, hash: String) in
            let last = try session.queryOne("SELECT sequence, hash FROM audit_record ORDER BY sequence DESC LIMIT 1", [])
            return (try last?.integer("sequence") ?? 0, try last?.text("hash") ?? AuditRecord.genesis)
        }
    }

    /// The hashes of the records with these numbers, those that exist, in one read.
    public func hashes(of sequences: [Int64]) throws -> [Int64: String] {
        guard !sequences.isEmpty else { return [:] }
        return try database.read { session in
            var hashes: [Int64: String] = [:]
            for sequence in Set(sequences) {
                if let row = try session.queryOne("SELECT hash FROM audit_record WHERE sequence = ?", [.integer(sequence)]) {
                    hashes[sequence] = try row.text("hash")
                }
            }
            return hashes
        }
    }

    /// Walks the chain from the first record (or from just after `start`, a record verified
    /// before, up to `end`) and names the first one that does not hold. Reads a page at a time,
    /// so that a long log does not have to fit in memory.
    public func verify(after start: (sequence: Int64, hash: String)? = nil, through end: Int64? = nil) throws
        -> VerificationResult
    {
        var previous = start?.hash ?? AuditRecord.genesis
        var expectedSequence: Int64 = (start?.sequence ?? 0) + 1
        var count = 0
        while true {
            let page = try database.read { session in
                try session.query(
                    "SELECT * FROM audit_record WHERE sequence >= ? AND sequence <= ? ORDER BY sequence LIMIT ?",
                    [.integer(expectedSequence), .integer(end ?? Int64.max), .integer(Self.verifyPage)]
                ).map(AuditRecord.init(row:))
            }
            if page.isEmpty {
                return VerificationResult(records: count, firstBroken: nil, last: (expectedSequence - 1, previous))
            }
            for record in page {
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
                if let body = record.body, AuditRecord.hexDigest(body) != record.bodySHA256 {
                    return VerificationResult(
                        records: count, firstBroken: (record.sequence, "its body does not match its digest (it was changed)"))
                }
                previous = record.hash
                expectedSequence += 1
            }
        }
    }

    static let verifyPage = 2_000
}
