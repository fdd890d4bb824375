import GovBusConfiguration
import Crypto
import Foundation
import GovBus
import GovBusConsole
import Logging
import CoreTestFixtures
import Testing

@testable import GovBusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sandbox's public keys are refused outside sandbox mode; real keys are made 0600.
@Suite("Public sandbox keys and key files")
struct PublicKeysTests {
    static let root = CoreFixtures.repository
    static let sandboxMode = ["GOVBUS_SANDBOX_KEYS": "allow"]

    /// A fresh folder of its own for a test.
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("public-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The permission bits of a file or folder.
    static func mode(_ url: URL) -> mode_t {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { return 0 }
        return info.st_mode & 0o777
    }

    /// The line of `file` that holds `text`.
    static func line(of text: String, in file: URL) throws -> Int {
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains(text) }) + 1
    }

    static func publicKey(ofSeed seed: Data) throws -> String {
        try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation.base64EncodedString()
    }

    @Test("The sandbox's seeds and public keys are recognised, for well-known names and those a key id begins with")
    func recognised() throws {
        let console = Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8)))
        #expect(PublicSandboxKeys.isPublic(seed: console))
        #expect(PublicSandboxKeys.name(ofSeed: console) == "console")
        let consolePublicText = try Self.publicKey(ofSeed: console)
        let consolePublic = try #require(Data(base64Encoded: consolePublicText))
        #expect(PublicSandboxKeys.isPublic(publicKey: consolePublic))

        let hanoi = Data(SHA256.hash(data: Data("govbus-sandbox-document-hanoi".utf8)))
        #expect(!PublicSandboxKeys.isPublic(seed: hanoi))
        #expect(PublicSandboxKeys.name(ofSeed: hanoi, among: ["document-hanoi-sandbox"]) == "document-hanoi")

        let real = Curve25519.Signing.PrivateKey()
        #expect(!PublicSandboxKeys.isPublic(seed: real.rawRepresentation, among: ["portal", "console-2026-01"]))
        #expect(!PublicSandboxKeys.isPublic(publicKey: real.publicKey.rawRepresentation, among: ["portal"]))
    }

    /// A core.yaml beside a copy of config/routes.yaml (or `routes`), with data in the folder.
    static func coreFolder(routes: String? = nil) throws -> URL {
        let folder = try Self.folder()
        let sample = try String(contentsOf: Self.root.appendingPathComponent("config/routes.yaml"), encoding: .utf8)
        try (routes ?? sample).write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        try """
        amqpUrl: amqp://guest:guest@127.0.0.1:1/govbus
        routes: routes.yaml
        procedures: \(Self.root.appendingPathComponent("config/procedures.yaml").path)
        schemas: \(Self.root.appendingPathComponent("Schemas").path)
        data: data
        telemetry: off
        """.write(to: folder.appendingPathComponent("core.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test("Outside sandbox mode the core refuses a routes file that trusts a sandbox key, naming the key id, its line and govbus keys new")
    func coreRefusesSandboxKeys() throws {
        let folder = try Self.coreFolder()
        let routes = folder.appendingPathComponent("routes.yaml")
        let documentLine = try Self.line(of: "document-sandbox:", in: routes)
        let configuration = try CoreConfiguration(contentsOf: folder.appendingPathComponent("core.yaml"), environment: [:])
        let error = #expect(throws: ConfigurationError.self) {
            try CoreService(configuration: configuration, logger: Logger(label: "public-keys-test"), environment: [:])
        }
        // Adapters in name order: document's key is the first named.
        #expect(error?.message.contains("'document-sandbox'") == true, "\(String(describing: error))")
        #expect(error?.message.contains("govbus keys new") == true, "\(String(describing: error))")
        #expect(error?.file == routes.path)
        #expect(error?.line == documentLine)
        #expect(error?.message.contains("'portal-sandbox'") == true, "the others are named too: \(String(describing: error))")

        // The same check, called directly: refused outside sandbox mode, accepted in it.
        let parsed = try RoutesFile(contentsOf: routes, knownTypes: CoreFixtures.knownTypes)
        #expect(throws: ConfigurationError.self) {
            try SandboxKeyCheck.check(routes: parsed, file: routes, environment: [:])
        }
        #expect(throws: ConfigurationError.self) {
            try SandboxKeyCheck.check(routes: parsed, file: routes, environment: ["GOVBUS_SANDBOX_KEYS": "yes"])
        }
        try SandboxKeyCheck.check(routes: parsed, file: routes, environment: Self.sandboxMode)
    }

    @Test("A sandbox key under another adapter's name, or as the operators' key, is refused too; real keys pass")
    func otherNames() throws {
        let hanoi = try Self.publicKey(ofSeed: Data(SHA256.hash(data: Data("govbus-sandbox-document-hanoi".utf8))))
        let real = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        let console = try Self.publicKey(ofSeed: Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))))
        func routes(_ text: String) throws -> (RoutesFile, URL) {
            let file = try Self.folder().appendingPathComponent("routes.yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return (try RoutesFile(contentsOf: file, knownTypes: CoreFixtures.knownTypes), file)
        }
        let (custom, customFile) = try routes(
            """
            adapters:
              document-hanoi:
                keys: {hanoi-2026-01: \(hanoi)}
                receives: [document.issue-requested.v1]
            """)
        let error = #expect(throws: ConfigurationError.self) {
            try SandboxKeyCheck.check(routes: custom, file: customFile, environment: [:])
        }
        #expect(error?.message.contains("'hanoi-2026-01'") == true, "\(String(describing: error))")
        #expect(error?.line == 3)

        let (operators, operatorsFile) = try routes(
            """
            adapters:
              portal:
                keys: {portal-2026-01: \(real)}
            operators:
              keys: {console-2026-01: \(console)}
            """)
        let operatorsError = #expect(throws: ConfigurationError.self) {
            try SandboxKeyCheck.check(routes: operators, file: operatorsFile, environment: [:])
        }
        #expect(operatorsError?.message.contains("'console-2026-01' of the operators") == true, "\(String(describing: operatorsError))")

        let (clean, cleanFile) = try routes(
            """
            adapters:
              portal:
                keys: {portal-2026-01: \(real)}
            """)
        try SandboxKeyCheck.check(routes: clean, file: cleanFile, environment: [:])
    }

    /// A console.yaml that signs with `seed`.
    static func consoleFile(keyID: String, seed: Data) throws -> URL {
        let file = try Self.folder().appendingPathComponent("console.yaml")
        try """
        listen: 127.0.0.1:8090
        amqpUrl: amqp://govbus-core:x@127.0.0.1:1/govbus
        signingKey: {id: \(keyID), seed: \(seed.base64EncodedString())}
        operators:
          - {name: lan, role: operator, passwordHash: "scrypt$a$b$c$d$e"}
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test("Outside sandbox mode the console refuses to sign with a sandbox key, naming the key id and govbus keys new")
    func consoleRefusesSandboxKey() throws {
        let file = try Self.consoleFile(keyID: "console-sandbox", seed: Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))))
        let configuration = try ConsoleConfiguration(contentsOf: file)
        let error = #expect(throws: ConfigurationError.self) {
            try SandboxKeyCheck.check(signingKey: configuration.signingKey, file: file, environment: [:])
        }
        #expect(error?.message.contains("'console-sandbox' of the console") == true, "\(String(describing: error))")
        #expect(error?.message.contains("govbus keys new") == true)
        #expect(error?.description.hasPrefix("\(file.path):3:") == true, "\(String(describing: error))")
        try SandboxKeyCheck.check(signingKey: configuration.signingKey, file: file, environment: Self.sandboxMode)

        let real = try Self.consoleFile(keyID: "console-2026-01", seed: Curve25519.Signing.PrivateKey().rawRepresentation)
        try SandboxKeyCheck.check(signingKey: try ConsoleConfiguration(contentsOf: real).signingKey, file: real, environment: [:])
    }

    @Test("govbus keys new writes the seed to a new 0600 file in 0700 folders, never over an existing one")
    func newKeyFile() throws {
        let file = try Self.folder().appendingPathComponent("keys/portal/portal-2026-01.seed")
        let publicKey = try SigningKeyFile.create(at: file)
        #expect(Self.mode(file) == 0o600)
        #expect(Self.mode(file.deletingLastPathComponent()) == 0o700)
        #expect(Self.mode(file.deletingLastPathComponent().deletingLastPathComponent()) == 0o700)
        let seed = try SigningKeyFile.seed(at: file)
        #expect(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey.rawRepresentation == publicKey)
        #expect(try SigningKeyFile.publicKey(ofSeedAt: file) == publicKey)
        #expect(!PublicSandboxKeys.isPublic(seed: seed))

        #expect(throws: (any Error).self) { try SigningKeyFile.create(at: file) }
        #expect(try SigningKeyFile.seed(at: file) == seed, "the first key is kept")
    }

    @Test("A secret file replacing a readable one is 0600 from the start")
    func secretFileReplaces() throws {
        let file = try Self.folder().appendingPathComponent("console.yaml")
        try "old".write(to: file, atomically: false, encoding: .utf8)
        chmod(file.path, 0o644)
        try SecretFile.write(Data("new".utf8), to: file)
        #expect(Self.mode(file) == 0o600)
        #expect(try String(contentsOf: file, encoding: .utf8) == "new")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path)
        #expect(leftovers == ["console.yaml"])
    }
}
