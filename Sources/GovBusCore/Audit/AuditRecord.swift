public import Foundation
import Crypto
import GovBus

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

    /// SHA-256 in lower-case hex.
    static func hexDigest(_ data: Data) -> String {
        SHA256.hash(data: data).lowercaseHex
    }

    var recomputedHash: String {
        Self.hash(
            sequence: sequence, recordedAt: recordedAt, kind: kind, messageID: messageID, type: type, sender: sender,
            receivers: receivers, correlationID: correlationID, bodySHA256: bodySHA256, signature: signature,
            previousHash: previousHash)
    }

    /// The hash before the first record.
    public static let genesis = String(repeating: "0", count: 64)
}
