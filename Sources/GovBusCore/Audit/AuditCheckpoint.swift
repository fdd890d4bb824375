public import Foundation
public import GovBusStore
import Crypto
import GovBusContracts

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What anchors the audit log outside its SQLite file: the number and hash of the chain's last
/// record at a time, signed with the core's Ed25519 key. The hash chain alone shows an edited or
/// removed record in the middle, but not a log cut short, nor one rewritten from some record on
/// with every hash recomputed; a checkpoint kept elsewhere shows both, since the chain must still
/// have, at the checkpoint's number, the record whose hash the core signed.
///
/// The signature covers these lines, joined by "\n" (no newline at the end), in UTF-8:
///
/// ```
/// govbus-audit-checkpoint-v1
/// <key id>
/// <sequence, decimal>
/// <head hash, 64 lower-case hex digits>
/// <time, RFC 3339 in UTC with whole seconds: 2026-01-12T10:00:00Z>
/// ```
///
/// Written as one JSON line each (keys sorted), to the checkpoints file and on the bus:
/// `{"headHash":"…","keyId":"core-2026-01","sequence":42,"signature":"<base64, 64 bytes>","time":"2026-01-12T10:00:00Z"}`
public struct AuditCheckpoint: Sendable, Hashable, Codable {
    /// The first line of what is signed.
    public static let format = "govbus-audit-checkpoint-v1"
    /// The durable quorum queue the core publishes its checkpoints to, through the default
    /// exchange, for whatever ships them off the machine.
    public static let queue = "govbus.audit.checkpoints"
    /// The AMQP `type` of a checkpoint message.
    public static let messageType = "govbus.audit.checkpoint.v1"

    /// The number of the chain's last record when the checkpoint was made (1, 2, 3...).
    public var sequence: Int64
    /// That record's hash.
    public var headHash: String
    /// When, exactly as signed.
    public var time: String
    /// The core's key that signed it (its public key is in routes.yaml's `core: {keys: ...}`).
    public var keyID: String
    /// Ed25519 over `canonicalBytes`, base64.
    public var signature: String

    enum CodingKeys: String, CodingKey {
        case sequence, headHash, time, keyID = "keyId", signature
    }

    public init(sequence: Int64, headHash: String, time: String, keyID: String, signature: String) {
        self.sequence = sequence
        self.headHash = headHash
        self.time = time
        self.keyID = keyID
        self.signature = signature
    }

    /// The bytes the signature covers.
    public static func canonicalBytes(keyID: String, sequence: Int64, headHash: String, time: String) -> [UInt8] {
        Array([format, keyID, String(sequence), headHash, time].joined(separator: "\n").utf8)
    }

    public var canonicalBytes: [UInt8] {
        Self.canonicalBytes(keyID: keyID, sequence: sequence, headHash: headHash, time: time)
    }

    /// A checkpoint of the record `sequence` with hash `headHash`, made at `date` (to the second),
    /// signed with the key of this id and base64 32-byte seed.
    public static func sign(
        sequence: Int64, headHash: String, at date: Date, keyID: String, base64Seed: String
    ) throws -> AuditCheckpoint {
        guard let seed = Data(base64Encoded: base64Seed), seed.count == 32 else {
            throw AuditCheckpointError.badKey("the seed of key '\(keyID)' is not 32 bytes of base64")
        }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        let time = ContractCoding.formatTimestamp(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
        let signature = try key.signature(
            for: canonicalBytes(keyID: keyID, sequence: sequence, headHash: headHash, time: time))
        return AuditCheckpoint(
            sequence: sequence, headHash: headHash, time: time, keyID: keyID, signature: signature.base64EncodedString())
    }

    /// The base64 Ed25519 public key of a base64 32-byte seed (what routes.yaml lists).
    public static func publicKey(ofSeed base64Seed: String) throws -> String {
        guard let seed = Data(base64Encoded: base64Seed), seed.count == 32 else {
            throw AuditCheckpointError.badKey("a seed must be 32 bytes of base64")
        }
        return try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation.base64EncodedString()
    }

    /// Whether the signature holds for this base64 32-byte Ed25519 public key.
    public func hasValidSignature(publicKey base64Key: String) -> Bool {
        guard let raw = Data(base64Encoded: base64Key), raw.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let signatureBytes = Data(base64Encoded: signature), signatureBytes.count == 64
        else { return false }
        return key.isValidSignature(signatureBytes, for: canonicalBytes)
    }

    // MARK: JSON lines

    /// The checkpoint as one line of JSON, keys sorted, without the newline.
    public func jsonLine() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public init(jsonLine: Data) throws {
        self = try JSONDecoder().decode(Self.self, from: jsonLine)
    }

    /// Appends the checkpoint as a line to a checkpoints file, created 0600 (and its folder) when
    /// missing, and syncs it to disk.
    public func append(to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let descriptor = open(url.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AuditCheckpointError.unreadable("cannot open \(url.path) to append: errno \(errno)")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var line = try jsonLine()
        line.append(UInt8(ascii: "\n"))
        try handle.write(contentsOf: line)
        try handle.synchronize()
        try handle.close()
    }

    /// The checkpoints of a file of JSON lines, each with its line number; blank lines skipped.
    public static func read(contentsOf url: URL) throws -> [(line: Int, checkpoint: AuditCheckpoint)] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw AuditCheckpointError.unreadable("cannot read \(url.path): \(error.localizedDescription)")
        }
        var checkpoints: [(line: Int, checkpoint: AuditCheckpoint)] = []
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { continue }
            do {
                checkpoints.append((index + 1, try AuditCheckpoint(jsonLine: Data(line))))
            } catch {
                throw AuditCheckpointError.malformed(line: index + 1, "not a checkpoint: \(error)")
            }
        }
        return checkpoints
    }
}

/// Why a checkpoint, or its file, does not hold.
public enum AuditCheckpointError: Error, Sendable, Hashable, CustomStringConvertible {
    case badKey(String)
    case unreadable(String)
    case malformed(line: Int, String)
    /// The file holds no checkpoint: nothing anchors the log.
    case empty
    case unknownKey(line: Int, keyID: String)
    case badSignature(line: Int, sequence: Int64)
    /// The chain is shorter than a checkpoint says it was.
    case truncated(line: Int, sequence: Int64, records: Int64)
    /// The record at a checkpoint's number is not the one the core signed.
    case rewritten(line: Int, sequence: Int64)

    public var description: String {
        switch self {
        case .badKey(let what): "bad key: \(what)"
        case .unreadable(let what): what
        case .malformed(let line, let what): "checkpoint line \(line): \(what)"
        case .empty: "the checkpoints file holds no checkpoint: nothing anchors the log"
        case .unknownKey(let line, let keyID):
            "checkpoint line \(line): signed with key '\(keyID)', which is not a key of the core given"
        case .badSignature(let line, let sequence):
            "checkpoint line \(line) (record \(sequence)): bad signature: the core did not sign this checkpoint"
        case .truncated(let line, let sequence, let records):
            "checkpoint line \(line) vouches for record \(sequence), but the log has \(records) records: "
                + "records were removed from its end (truncated)"
        case .rewritten(let line, let sequence):
            "checkpoint line \(line): record \(sequence) does not have the hash the core signed: "
                + "the log was rewritten at or before record \(sequence)"
        }
    }
}

extension AuditLog {
    /// What the checkpoints of a file vouch for.
    public struct CheckpointVerification: Sendable, Hashable {
        /// Checkpoints checked.
        public let checkpoints: Int
        /// The highest record a valid checkpoint vouches for (records past it are not anchored).
        public let anchoredThrough: Int64
        /// The records of the log.
        public let records: Int64
        /// The first checkpoint that does not hold; nil when all do.
        public let failure: AuditCheckpointError?
    }

    /// Checks each checkpoint, in order: its signature with the core's public keys (key id →
    /// base64), then that the chain has, at its number, a record with the hash it signed. Stops at
    /// the first that does not hold. Check the chain itself with `verify()` first.
    public func verify(
        checkpoints: [(line: Int, checkpoint: AuditCheckpoint)], publicKeys: [String: String]
    ) throws -> CheckpointVerification {
        let records = try head().sequence
        guard !checkpoints.isEmpty else {
            return CheckpointVerification(checkpoints: 0, anchoredThrough: 0, records: records, failure: .empty)
        }
        let recorded = try self.hashes(of: checkpoints.map { $0.checkpoint.sequence })
        var anchored: Int64 = 0
        for (index, (line, checkpoint)) in checkpoints.enumerated() {
            func failed(_ failure: AuditCheckpointError) -> CheckpointVerification {
                CheckpointVerification(checkpoints: index, anchoredThrough: anchored, records: records, failure: failure)
            }
            guard let key = publicKeys[checkpoint.keyID] else {
                return failed(.unknownKey(line: line, keyID: checkpoint.keyID))
            }
            guard checkpoint.hasValidSignature(publicKey: key) else {
                return failed(.badSignature(line: line, sequence: checkpoint.sequence))
            }
            guard let hash = checkpoint.sequence == 0 ? Optional(AuditRecord.genesis) : recorded[checkpoint.sequence]
            else {
                return failed(.truncated(line: line, sequence: checkpoint.sequence, records: records))
            }
            guard hash == checkpoint.headHash else {
                return failed(.rewritten(line: line, sequence: checkpoint.sequence))
            }
            anchored = max(anchored, checkpoint.sequence)
        }
        return CheckpointVerification(
            checkpoints: checkpoints.count, anchoredThrough: anchored, records: records, failure: nil)
    }
}
