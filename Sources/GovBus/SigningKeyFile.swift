import Crypto
public import Foundation
import GovBusConfiguration

/// A signing key's seed in a file of its own: the base64 of the 32-byte Ed25519 seed on one line,
/// in a file only its owner can read (what `govbus keys new` writes, `govbus keys public` reads).
public enum SigningKeyFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Makes a new Ed25519 key and writes its seed to `url`, created 0600 (and its missing folders
    /// 0700); an existing file is never overwritten. Returns the raw public key.
    public static func create(at url: URL) throws -> Data {
        let key = Curve25519.Signing.PrivateKey()
        try SecretFile.makeDirectory(at: url.deletingLastPathComponent())
        try SecretFile.create(Data((key.rawRepresentation.base64EncodedString() + "\n").utf8), at: url)
        return key.publicKey.rawRepresentation
    }

    /// The raw seed held by `url`.
    public static func seed(at url: URL) throws -> Data {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw Failure(description: "\(url.path): cannot read it: \(error.localizedDescription)")
        }
        guard let seed = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), seed.count == 32 else {
            throw Failure(description: "\(url.path) does not hold the base64 of a 32-byte Ed25519 seed")
        }
        return seed
    }

    /// The raw public key of the seed held by `url`.
    public static func publicKey(ofSeedAt url: URL) throws -> Data {
        guard let publicKey = try PublicSandboxKeys.publicKey(ofSeed: Self.seed(at: url)) else {
            throw Failure(description: "\(url.path) does not hold an Ed25519 seed")
        }
        return publicKey
    }
}
