import Crypto
import Foundation

/// Message ids that follow from what a message is about (a dossier's code, a payment's reference):
/// the same event seen twice (a repeated callback, a redelivery) gets the same id, so that the bus
/// drops the copy. A UUID of version 8 (RFC 9562) from the SHA-256 of the parts joined with "|"
/// (parts that may hold a "|" themselves could meet: give such parts a fixed shape).
public enum DerivedID {
    public static func uuid(_ parts: String...) -> String {
        uuid(parts)
    }

    public static func uuid(_ parts: [String]) -> String {
        var bytes = Array(SHA256.hash(data: Data(parts.joined(separator: "|").utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.lowercaseHex
        return [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            .joined(separator: "-")
    }
}
