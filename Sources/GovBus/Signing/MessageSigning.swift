public import AMQP
public import Crypto
import Foundation

/// Signs messages with an adapter's Ed25519 key: sets `govbus-key-id` and `govbus-signature`.
public struct MessageSigner: Sendable {
    public let keyID: String
    /// The key's raw bytes: swift-crypto's key types are not Sendable on Linux.
    private let seed: Data

    public init(keyID: String, privateKey: Curve25519.Signing.PrivateKey) {
        self.keyID = keyID
        self.seed = privateKey.rawRepresentation
    }

    /// From the 32-byte seed, base64-encoded, as configuration files hold it.
    public init(keyID: String, base64Seed: String) throws {
        guard let seed = Data(base64Encoded: base64Seed), seed.count == 32 else {
            throw SignatureError.malformedKey("the private key of '\(keyID)' is not 32 bytes of base64")
        }
        self.init(keyID: keyID, privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
    }

    private var key: Curve25519.Signing.PrivateKey {
        // The seed came from a valid key: rebuilding it cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    public var publicKey: Curve25519.Signing.PublicKey { key.publicKey }

    /// The message with its key id and signature headers set.
    public func sign(_ message: AMQPMessage) throws -> AMQPMessage {
        let canonical = try CanonicalForm.bytes(of: message, keyID: keyID)
        let signature = try key.signature(for: canonical)
        var signed = message
        var headers = signed.properties.headers ?? [:]
        headers[BusHeader.keyID] = .string(keyID)
        headers[BusHeader.signature] = .string(Data(signature).base64EncodedString())
        signed.properties.headers = headers
        return signed
    }
}

/// Checks signatures against the public keys of known senders.
public struct SignatureVerifier: Sendable {
    /// A parsed public key, shared between threads. swift-crypto's key types are not marked
    /// Sendable on Linux, but a public key is immutable once made and only read after.
    private struct SharedKey: @unchecked Sendable {
        let key: Curve25519.Signing.PublicKey
    }

    /// Parsed once, when the verifier is made: a message costs one verification, nothing more.
    private let keys: [String: SharedKey]

    public init(keys: [String: Curve25519.Signing.PublicKey]) {
        self.keys = keys.mapValues(SharedKey.init)
    }

    /// From key ids and 32-byte public keys, base64-encoded.
    public init(base64Keys: [String: String]) throws {
        var keys: [String: Curve25519.Signing.PublicKey] = [:]
        for (keyID, encoded) in base64Keys {
            guard let raw = Data(base64Encoded: encoded), raw.count == 32 else {
                throw SignatureError.malformedKey("the public key of '\(keyID)' is not 32 bytes of base64")
            }
            keys[keyID] = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        }
        self.init(keys: keys)
    }

    /// Returns the key id that signed the message, or throws why the signature does not hold.
    @discardableResult
    public func verify(_ message: AMQPMessage) throws(SignatureError) -> String {
        guard let keyID = message.properties.headers?[BusHeader.keyID]?.stringValue else {
            throw .missing("the message has no govbus-key-id header")
        }
        guard let encoded = message.properties.headers?[BusHeader.signature]?.stringValue else {
            throw .missing("the message has no govbus-signature header")
        }
        guard let key = keys[keyID]?.key else { throw .unknownKey(keyID) }
        guard let signature = Data(base64Encoded: encoded), signature.count == 64 else {
            throw .malformedSignature("govbus-signature is not 64 bytes of base64")
        }
        let canonical: [UInt8]
        do {
            canonical = try CanonicalForm.bytes(of: message, keyID: keyID)
        } catch {
            throw .malformedSignature(error.description)
        }
        guard key.isValidSignature(signature, for: canonical) else { throw .mismatch(keyID) }
        return keyID
    }
}

public enum SignatureError: Error, Sendable, Hashable, CustomStringConvertible {
    case missing(String)
    case unknownKey(String)
    case malformedKey(String)
    case malformedSignature(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .missing(let what): "unsigned: \(what)"
        case .unknownKey(let keyID): "unknown signing key '\(keyID)'"
        case .malformedKey(let what): "bad key: \(what)"
        case .malformedSignature(let what): "bad signature: \(what)"
        case .mismatch(let keyID): "the signature does not match the message for key '\(keyID)'"
        }
    }
}
