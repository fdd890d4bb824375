public import Foundation
import Crypto

/// One entry of the audit log: a message the core handled (or an operator's action), with the
/// hash of the entry before it, so that changing or removing an entry followed by others breaks
/// the chain. The chain alone does not show its last entries removed, nor the log rewritten from
/// some entry on with every hash recomputed: the core's signed checkpoints (`AuditCheckpoint`),
/// kept off the machine, do, up to the last one kept.
public struct AuditRecord: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case message, operatorAction = "operator-action"
    }

    /// 1, 2, 3... in the order recorded.
    public var sequence: Int64
    public var recordedAt: Date
    public var kind: Kind
    public var messageID: String
    public var type: String
    public var sender: String
    public var receivers: [String]
    public var correlationID: String
    public var bodySHA256: String
    public var signature: String
    /// The body itself, kept for the retention period (the hash covers its digest, not the bytes).
    public var body: Data?
    public var previousHash: String
    public var hash: String

    /// The hash of a record: SHA-256, in hex, over the previous hash and every field but the body,
    /// each on a line of its own.
    static func hash(
        sequence: Int64, recordedAt: Date, kind: Kind, messageID: String, type: String, sender: String,
        receivers: [String], correlationID: String, bodySHA256: String, signature: String, previousHash: String
    ) -> String {
        let fields = [
            previousHash, String(sequence), String(Int64((recordedAt.timeIntervalSince1970 * 1000).rounded())),
            kind.rawValue, messageID, type, sender, receivers.joined(separator: ","), correlationID, bodySHA256,
            signature,
        ]
        return hexDigest(Data(fields.joined(separator: "\n").utf8))
    }

    /// SHA-256 in lower-case hex, written straight into the string: a String per byte, joined,
    /// cost three times the hashing (two digests per audited message).
    public static func hexDigest(_ data: Data) -> String {
        let digest = SHA256.hash(data: data)
        return String(unsafeUninitializedCapacity: SHA256.byteCount * 2) { text in
            var index = 0
            for byte in digest {
                text[index] = hexDigits[Int(byte >> 4)]
                text[index + 1] = hexDigits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    public var recomputedHash: String {
        Self.hash(
            sequence: sequence, recordedAt: recordedAt, kind: kind, messageID: messageID, type: type, sender: sender,
            receivers: receivers, correlationID: correlationID, bodySHA256: bodySHA256, signature: signature,
            previousHash: previousHash)
    }

    /// The hash before the first record.
    public static let genesis = String(repeating: "0", count: 64)

    init(row: StoreRow) throws {
        let receivers = try row.text("receivers")
        self.init(
            sequence: try row.integer("sequence"), recordedAt: try row.date("recorded_at"),
            kind: Kind(rawValue: try row.text("kind")) ?? .message, messageID: try row.text("message_id"),
            type: try row.text("type"), sender: try row.text("sender"),
            receivers: receivers.isEmpty ? [] : receivers.split(separator: ",").map(String.init),
            correlationID: try row.text("correlation_id"), bodySHA256: try row.text("body_sha256"),
            signature: try row.text("signature"), body: try row.optionalBlob("body"),
            previousHash: try row.text("previous_hash"), hash: try row.text("hash"))
    }

    public init(
        sequence: Int64, recordedAt: Date, kind: Kind, messageID: String, type: String, sender: String, receivers: [String],
        correlationID: String, bodySHA256: String, signature: String, body: Data?, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.kind = kind
        self.messageID = messageID
        self.type = type
        self.sender = sender
        self.receivers = receivers
        self.correlationID = correlationID
        self.bodySHA256 = bodySHA256
        self.signature = signature
        self.body = body
        self.previousHash = previousHash
        self.hash = hash
    }
}
