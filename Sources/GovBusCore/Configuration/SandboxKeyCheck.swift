public import Foundation
import GovBus
public import GovBusConfiguration

/// The sandbox's signing keys are public (their seeds are sha256("govbus-sandbox-<name>"), see
/// `PublicSandboxKeys`): a signature made with one proves nothing. Outside sandbox mode the core
/// refuses to start when routes.yaml trusts one (an adapter's key, the operators', the core's) or
/// when it would sign with one, and the console when it would sign with one; the error names the
/// key id and says how to make a real key.
///
/// Sandbox mode is the environment variable GOVBUS_SANDBOX_KEYS=allow, which `govbus up` sets for
/// the core and the console it starts, and nothing else does: not a configuration field, so that
/// a configuration file copied from a sandbox into production does not carry it along.
public enum SandboxKeyCheck {
    public static let environmentVariable = "GOVBUS_SANDBOX_KEYS"
    /// What `govbus up` adds to its children's environment.
    public static let sandboxMode = [environmentVariable: "allow"]

    /// Whether this environment is sandbox mode.
    public static func allowsSandboxKeys(_ environment: [String: String]) -> Bool {
        environment[environmentVariable] == "allow"
    }

    /// A public key a configuration file trusts or signs with: its id, whose it is.
    public struct Key: Sendable, Hashable {
        public var id: String
        /// Whose key it is, for the message: "adapter 'portal'", "the operators", "the console".
        public var owner: String
        /// The raw 32-byte Ed25519 public key.
        public var publicKey: Data

        public init(id: String, owner: String, publicKey: Data) {
            self.id = id
            self.owner = owner
            self.publicKey = publicKey
        }
    }

    /// The core's check of routes.yaml: every adapter's key, the operators' and the core's, read from `file`.
    public static func check(routes: RoutesFile, file: URL, environment: [String: String]) throws(ConfigurationError) {
        var keys: [Key] = []
        for adapter in routes.adapters.values.sorted(by: { $0.name < $1.name }) {
            for (id, key) in adapter.keys.sorted(by: { $0.key < $1.key }) {
                if let raw = Data(base64Encoded: key) { keys.append(Key(id: id, owner: "adapter '\(adapter.name)'", publicKey: raw)) }
            }
        }
        for (id, key) in routes.operatorKeys.sorted(by: { $0.key < $1.key }) {
            if let raw = Data(base64Encoded: key) { keys.append(Key(id: id, owner: "the operators", publicKey: raw)) }
        }
        for (id, key) in routes.coreKeys.sorted(by: { $0.key < $1.key }) {
            if let raw = Data(base64Encoded: key) { keys.append(Key(id: id, owner: "the core", publicKey: raw)) }
        }
        try refuse(keys, names: Array(routes.adapters.keys), file: file, environment: environment)
    }

    /// The check of a key a process signs with (id and base64 seed), from `file`: the console's
    /// (edited replays), the core's own (audit checkpoints).
    public static func check(
        signingKey: (id: String, seed: String)?, owner: String = "the console", file: URL, environment: [String: String]
    ) throws(ConfigurationError) {
        guard let signingKey, let seed = Data(base64Encoded: signingKey.seed),
            let publicKey = PublicSandboxKeys.publicKey(ofSeed: seed)
        else { return }
        try refuse([Key(id: signingKey.id, owner: owner, publicKey: publicKey)], names: [], file: file, environment: environment)
    }

    /// The one check both call: outside sandbox mode, the first of `keys` that is a sandbox key
    /// (among the well-known names, `names` and the key ids) stops the process, naming it, its
    /// line in `file`, the others, and how to make a real one.
    public static func refuse(_ keys: [Key], names: [String], file: URL, environment: [String: String]) throws(ConfigurationError) {
        guard !allowsSandboxKeys(environment) else { return }
        let sandboxKeys = PublicSandboxKeys.publicKeys(among: names + keys.map(\.id))
        let found = keys.compactMap { key in sandboxKeys[key.publicKey].map { (key: key, name: $0) } }
        guard let first = found.first else { return }
        var message = """
            key '\(first.key.id)' of \(first.key.owner) is the public sandbox key '\(first.name)': its seed is \
            sha256("\(PublicSandboxKeys.seedPrefix)\(first.name)"), which anyone can compute, so a signature by it proves \
            nothing. Make a real key with `govbus keys new --id <key id> --out <seed file>`: its seed goes in the \
            signer's configuration (signingKey), its public key in routes.yaml. Sandbox keys are for the stack \
            `govbus up` starts, and only there
            """
        if found.count > 1 {
            message += " (the same holds for \(found.dropFirst().map { "'\($0.key.id)'" }.joined(separator: ", ")))"
        }
        throw ConfigurationError(file: file.path, line: line(of: first.key.id, in: file), message: message)
    }

    /// The first line of `file` that names `id` as a word of its own; 1 when none does.
    static func line(of id: String, in file: URL) -> Int {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return 1 }
        let wordCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.unicodeScalars.split { !wordCharacters.contains($0) }.map { String(String.UnicodeScalarView($0)) }
            if words.contains(id) { return index + 1 }
        }
        return 1
    }
}
