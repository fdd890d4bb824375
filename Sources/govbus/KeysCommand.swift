import ArgumentParser
import Foundation
import GovBus

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Signing keys: make a real one, print the public key of one.",
        discussion: """
            Every adapter and the console sign with an Ed25519 key: its seed stays with the signer \
            (signingKey in its configuration), its public key goes in routes.yaml. The sandbox's keys \
            are public; outside govbus up the core and the console refuse them.
            """,
        subcommands: [NewKeyCommand.self, PublicKeyCommand.self])
}

struct NewKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Make an Ed25519 key pair: the seed into a new file only you can read, the public key on standard output.",
        discussion: """
            The seed file (base64, one line) is created with mode 0600, its missing folders 0700; an \
            existing file is never overwritten. Prints the key id and the public key as routes.yaml \
            wants them.
            """)

    @Option(help: "The key id, as signatures name it (default: key-<year>-<month>).") var id: String?
    @Option(help: "The seed file to create (default: <key id>.seed).") var out: String?

    func run() throws {
        let keyID = id ?? Self.defaultID()
        guard keyID.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", options: .regularExpression) != nil else {
            throw ValidationError("a key id is 1 to 64 letters, digits, dots, dashes or underscores")
        }
        let file = URL(fileURLWithPath: out ?? "\(keyID).seed")
        let publicKey = try SigningKeyFile.create(at: file).base64EncodedString()
        print(
            """
            key id:     \(keyID)
            public key: \(publicKey)
            seed:       \(file.path) (mode 0600: keep it with the signer only)

            In routes.yaml, under the adapter (or operators, or core) that signs with it:
                keys: {\(keyID): \(publicKey)}
            In that signer's configuration, signingKey: {id: \(keyID), seed: <the line in \(file.lastPathComponent)>}
            """)
    }

    /// key-2026-01: ids that say when a key was made make rotation readable.
    static func defaultID() -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        let month = parts.month ?? 1
        return "key-\(parts.year ?? 2026)-\(month < 10 ? "0" : "")\(month)"
    }
}

struct PublicKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "public", abstract: "Print the public key (base64) of a seed file.")

    @Argument(help: "The seed file (base64 of the 32-byte Ed25519 seed).") var file: String

    func run() throws {
        let url = URL(fileURLWithPath: file)
        let seed = try SigningKeyFile.seed(at: url)
        if let name = PublicSandboxKeys.name(ofSeed: seed) {
            FileHandle.standardError.write(
                Data("govbus keys: this is the public sandbox key '\(name)'; make a real one with govbus keys new\n".utf8))
        }
        print(try SigningKeyFile.publicKey(ofSeedAt: url).base64EncodedString())
    }
}
