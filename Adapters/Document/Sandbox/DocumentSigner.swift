import Crypto
import Foundation
import GovBusConfiguration

/// How the document system signs documents (Ed25519): with a key from a seed when one is given
/// (the same key wherever the sandbox runs), else one made on first start and kept in the data
/// folder, so signatures stay checkable across restarts.
struct DocumentSigner: Sendable {
    static let fileName = "document-signing.key"

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// The key's raw bytes: swift-crypto's key types are not Sendable on Linux.
    private let seed: Data

    /// `seed`: base64 of 32 bytes.
    static func load(seed: String?, folder: URL) throws -> DocumentSigner {
        if let seed {
            guard let bytes = Data(base64Encoded: seed), bytes.count == 32 else {
                throw SetupError(description: "the signing seed must be the base64 of 32 bytes")
            }
            return DocumentSigner(seed: bytes)
        }
        let file = folder.appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: file.path) {
            let text = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
                throw SetupError(description: "\(file.path) does not hold the base64 of a 32-byte Ed25519 key")
            }
            return DocumentSigner(seed: bytes)
        }
        let bytes = Curve25519.Signing.PrivateKey().rawRepresentation
        // 0600 from the start (SecretFile), not written and then chmod-ed; never over another key.
        try SecretFile.create(Data(bytes.base64EncodedString().utf8), at: file)
        return DocumentSigner(seed: bytes)
    }

    /// The signature of `content`, base64.
    func signature(of content: Data) throws -> String {
        try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: content).base64EncodedString()
    }

    /// The raw public key, base64: what checks the signatures.
    func publicKey() throws -> String {
        try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation.base64EncodedString()
    }
}
