import Crypto
public import Foundation
import GovBusContracts

/// Message ids that follow from what a message is about (a dossier's code, a payment's reference):
/// the same event seen twice (a repeated callback, a redelivery) gets the same id, so that the bus
/// drops the copy. A UUID of version 8 (RFC 9562) from the SHA-256 of the parts joined with "|"
/// (parts that may hold a "|" themselves could meet: give such parts a fixed shape).
public enum DerivedID {
    public static func uuid(_ parts: String...) -> String {
        uuid(parts)
    }

    public static func uuid(_ parts: [String]) -> String {
        uuid(digest: Array(SHA256.hash(data: Data(parts.joined(separator: "|").utf8))))
    }

    /// The same, under a secret key of the sender's (an HMAC, not a plain hash): no one without
    /// the key can tell in advance which id an event will get.
    public static func uuid(key: Data, _ parts: [String]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data(parts.joined(separator: "|").utf8), using: SymmetricKey(data: key))
        return uuid(digest: Array(code))
    }

    /// The key an adapter derives its ids under, from its signing seed.
    public static func key(fromSigningSeed seed: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data("govbus-derived-id-v1".utf8), using: SymmetricKey(data: seed)))
    }

    private static func uuid(digest: [UInt8]) -> String {
        var bytes = Array(digest.prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.lowercaseHex
        return [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
            .joined(separator: "-")
    }
}
