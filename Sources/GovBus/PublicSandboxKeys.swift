import Crypto
public import Foundation

/// The sandbox's signing keys are public: the seed of the one named N is sha256("govbus-sandbox-N"),
/// written in this repository, so anyone can sign with it. They make `govbus up` work on a first
/// day; anywhere else a signature by one proves nothing. This tells them apart, for the names a
/// configuration may use (the adapters', "console", "core", "operators", a key id and its
/// dash-separated beginnings: `portal-sandbox` → `portal`).
public enum PublicSandboxKeys {
    public static let seedPrefix = "govbus-sandbox-"

    /// The names of the sandbox's keys that no configuration has to mention to be checked.
    public static let wellKnownNames: Set<String> = [
        "portal", "registry", "payment", "document", "console", "core", "operators", "govbus",
    ]

    /// The 32-byte Ed25519 seed of the sandbox key named `name`.
    public static func seed(of name: String) -> Data {
        Data(SHA256.hash(data: Data("\(seedPrefix)\(name)".utf8)))
    }

    /// The raw 32-byte public key of the sandbox key named `name`.
    public static func publicKey(of name: String) -> Data {
        // 32 bytes are always a valid Ed25519 seed: this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: seed(of: name)).publicKey.rawRepresentation
    }

    /// The raw public key of a 32-byte seed; nil when it is not one.
    public static func publicKey(ofSeed seed: Data) -> Data? {
        guard seed.count == 32 else { return nil }
        return try? Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation
    }

    /// The names to try: the well-known ones, `names`, and every beginning of each of them up to
    /// a dash (`document-hanoi-sandbox` → `document`, `document-hanoi`, `document-hanoi-sandbox`).
    public static func candidateNames(_ names: some Sequence<String>) -> Set<String> {
        var candidates = wellKnownNames
        for name in names {
            let parts = name.split(separator: "-", omittingEmptySubsequences: false)
            for count in 1...max(parts.count, 1) {
                let candidate = parts.prefix(count).joined(separator: "-")
                if !candidate.isEmpty { candidates.insert(candidate) }
            }
        }
        return candidates
    }

    /// Public key → sandbox name, for these names and those `candidateNames` adds.
    public static func publicKeys(among names: some Sequence<String>) -> [Data: String] {
        var keys: [Data: String] = [:]
        for name in candidateNames(names).sorted() { keys[publicKey(of: name)] = name }
        return keys
    }

    /// The sandbox name whose public key this is, if it is one (among `names` and their candidates).
    public static func name(ofPublicKey key: Data, among names: [String] = []) -> String? {
        publicKeys(among: names)[key]
    }

    /// The sandbox name whose seed this is, if it is one (among `names` and their candidates).
    public static func name(ofSeed seed: Data, among names: [String] = []) -> String? {
        candidateNames(names).sorted().first { Self.seed(of: $0) == seed }
    }

    /// Whether `key` (raw, 32 bytes) is the public key of a sandbox key.
    public static func isPublic(publicKey key: Data, among names: [String] = []) -> Bool {
        name(ofPublicKey: key, among: names) != nil
    }

    /// Whether `seed` (raw, 32 bytes) is the seed of a sandbox key.
    public static func isPublic(seed: Data, among names: [String] = []) -> Bool {
        name(ofSeed: seed, among: names) != nil
    }
}
