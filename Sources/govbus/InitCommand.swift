import ArgumentParser
import Crypto
import Foundation
import GovBus
import GovBusConfiguration
import GovBusConsole

/// `govbus init --out deploy/`: every file docker-compose.yml mounts or reads, with fresh keys
/// and passwords. Each is 0600 and holds only what its own service needs (`DeploymentFiles`).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write the deployment's files for docker-compose.yml: configuration, fresh keys and passwords.",
        discussion: """
            Writes into --out: routes.yaml (the agencies' and the core's fresh public keys), core.yaml \
            (both cores), console.yaml, one <adapter>.yaml per adapter, adapter-passwords.yaml, and the \
            environment files of the broker, PostgreSQL, the provisioning and the sandboxes. Every file \
            is created 0600: give each to the uid its container runs as. The adapters' systems are the \
            sandboxes (profile "sandboxes"); point `system:` at the agencies' own before going live. \
            The console's passwords are printed once, and kept in console-passwords.
            """)

    @Option(help: "The folder to write into.") var out = "deploy"
    @Flag(help: "Replace the files a previous init wrote (its keys and passwords are lost).") var force = false

    func run() throws {
        let folder = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        let repository = try UpCommand.repository()
        let deployment = try DeploymentFiles(
            sampleRoutes: String(contentsOf: repository.appendingPathComponent("config/routes.yaml"), encoding: .utf8))
        let files = try deployment.files()
        if !force, let existing = files.keys.sorted().first(where: {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }) {
            throw ValidationError("\(folder.appendingPathComponent(existing).path) exists: pass --force to replace every file with new keys and passwords")
        }
        if !FileManager.default.fileExists(atPath: folder.path) { try SecretFile.makeDirectory(at: folder) }
        for (name, text) in files.sorted(by: { $0.key < $1.key }) {
            try SecretFile.write(Data(text.utf8), to: folder.appendingPathComponent(name))
        }
        print(
            """
            wrote \(files.count) files into \(folder.path), each 0600:
            \(files.keys.sorted().map { "  \($0)" }.joined(separator: "\n"))
            console: operator / \(deployment.secret("console-operator")), officer / \(deployment.secret("console-officer")), \
            viewer / \(deployment.secret("console-viewer")) \
            (kept in console-passwords)
            next: docker compose --profile sandboxes up -d (or scripts/compose-check, which needs no Docker)
            """)
    }
}

/// The files of a deployment by docker-compose.yml, from fresh secrets. Service names are the
/// compose file's: rabbitmq-1…3, postgres, core-1 and core-2, the adapters, console, the sandboxes.
struct DeploymentFiles {
    static let adapterPorts = ["portal": 8081, "registry": 8082, "payment": 8083, "document": 8084]
    static let sandboxPorts = ["portal": 9081, "registry": 9082, "payment": 9083, "document": 9084]
    static let brokerNodes = "rabbitmq-1:5672,rabbitmq-2:5672,rabbitmq-3:5672"

    let sampleRoutes: String
    /// Passwords and shared secrets, by what they are for.
    private var secrets: [String: String] = [:]
    /// Seeds of the signing keys, by signer (adapters, console, core).
    private var seeds: [String: Data] = [:]
    /// Each key's id: the signer and the month, so that a rotation reads well.
    private let keySuffix = NewKeyCommand.defaultID().replacingOccurrences(of: "key-", with: "")

    init(sampleRoutes: String) throws {
        self.sampleRoutes = sampleRoutes
        let names =
            ["rabbitmq-admin", "erlang-cookie", "govbus-core", "postgres", "operator-token", "portal-hmac", "payment-hash"]
            + LocalStack.connectors + LocalStack.consoleAccounts.map { "console-\($0)" }
        for name in names { secrets[name] = Self.randomSecret() }
        for signer in LocalStack.connectors + ["console", "core"] {
            seeds[signer] = Curve25519.Signing.PrivateKey().rawRepresentation
        }
    }

    func secret(_ name: String) -> String { secrets[name] ?? "" }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private func keyID(_ signer: String) -> String { "\(signer)-\(keySuffix)" }

    private func signingKey(_ signer: String) -> String {
        "{id: \(keyID(signer)), seed: \(seeds[signer]!.base64EncodedString())}"
    }

    private func publicKey(_ signer: String) throws -> String {
        try Curve25519.Signing.PrivateKey(rawRepresentation: seeds[signer]!).publicKey.rawRepresentation.base64EncodedString()
    }

    private func amqpURL(user: String) -> String {
        "amqp://\(user):\(secret(user))@\(Self.brokerNodes)/govbus"
    }

    private var storeURL: String { "postgres://govbus:\(secret("postgres"))@postgres:5432/govbus" }

    /// File name → content.
    func files() throws -> [String: String] {
        var files: [String: String] = [
            "rabbitmq.env": """
                RABBITMQ_DEFAULT_USER=admin
                RABBITMQ_DEFAULT_PASS=\(secret("rabbitmq-admin"))
                RABBITMQ_ERLANG_COOKIE=\(secret("erlang-cookie"))

                """,
            "postgres.env": """
                POSTGRES_USER=govbus
                POSTGRES_PASSWORD=\(secret("postgres"))
                POSTGRES_DB=govbus

                """,
            "provision.env": """
                GOVBUS_MANAGEMENT_URL=http://admin:\(secret("rabbitmq-admin"))@rabbitmq-1:15672
                GOVBUS_CORE_PASSWORD=\(secret("govbus-core"))

                """,
            "portal-sandbox.env": "GOVBUS_PORTAL_HMAC_SECRET=\(secret("portal-hmac"))\n",
            "payment-sandbox.env": "GOVBUS_PAYMENT_HASH_SECRET=\(secret("payment-hash"))\n",
            "grafana.env": "GF_SECURITY_ADMIN_PASSWORD=\(secret("grafana-admin"))\n",
            "adapter-passwords.yaml": LocalStack.connectors.map { "\($0): \(secret($0))" }.joined(separator: "\n") + "\n",
            "console-passwords": LocalStack.consoleAccounts.map { "\($0) \(secret("console-\($0)"))" }.joined(separator: "\n") + "\n",
            "routes.yaml": try routes(),
            "core.yaml": """
                # Written by govbus init, for core-1 and core-2 (GOVBUS_CORE_INSTANCE tells them apart).
                amqpUrl: \(amqpURL(user: "govbus-core"))
                routes: /etc/govbus/routes.yaml
                procedures: /opt/govbus/config/procedures.yaml
                schemas: /opt/govbus/Schemas
                data: /var/lib/govbus/core
                store: "\(storeURL)"
                partitions: 8
                telemetry: 0.0.0.0:9464
                drainTimeout: 10s
                operatorToken: \(secret("operator-token"))
                signingKey: \(signingKey("core"))

                """,
            "console.yaml": try console(),
        ]
        for adapter in LocalStack.connectors {
            files["\(adapter).yaml"] = adapterFile(adapter)
        }
        return files
    }

    /// The sample routes with every sandbox key replaced by a fresh one.
    private func routes() throws -> String {
        // The sample's opening comment speaks of the sandbox's keys: it goes.
        let body = sampleRoutes.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") }
        var text = "# Written by govbus init: the sample routes, with a fresh key for each signer.\n"
            + body.joined(separator: "\n")
        for signer in LocalStack.connectors + ["console", "core"] {
            let sandboxKey = "{\(signer)-sandbox: \(PublicSandboxKeys.publicKey(of: signer).base64EncodedString())}"
            guard text.contains(sandboxKey) else {
                throw ValidationError("config/routes.yaml has no sandbox key for \(signer) to replace")
            }
            text = text.replacingOccurrences(of: sandboxKey, with: "{\(keyID(signer)): \(try publicKey(signer))}")
        }
        return text
    }

    private func console() throws -> String {
        let accounts = try LocalStack.consoleAccounts.map { name in
            "  - {name: \(name), role: \(name), passwordHash: \"\(try ConsoleServer.hashPassword(secret("console-\(name)")))\"}"
        }
        return """
            # Written by govbus init. Its operator actions go to core-1's operator endpoint.
            listen: 0.0.0.0:8090
            amqpUrl: \(amqpURL(user: "govbus-core"))
            store: "\(storeURL)"
            data: /var/lib/govbus/console
            signingKey: \(signingKey("console"))
            core: {url: "http://core-1:9464", operatorToken: \(secret("operator-token"))}
            # Each step's timeout beside the time it took, on a dossier's page.
            procedures: /opt/govbus/config/procedures.yaml
            # Where a dossier's trace is shown, once the cores and adapters export traces (OTEL_*):
            # traceUrl: "http://jaeger:16686/trace/{traceId}"
            operators:
            \(accounts.joined(separator: "\n"))

            """
    }

    private func adapterFile(_ adapter: String) -> String {
        let settings = LocalStack.settings(adapter, portalSecret: secret("portal-hmac"), paymentSecret: secret("payment-hash"))
        return """
            # Written by govbus init. `system` is the sandbox (profile "sandboxes"): the agency's own
            # system's URL goes there before going live.
            name: \(adapter)
            amqpUrl: \(amqpURL(user: adapter))
            signingKey: \(signingKey(adapter))
            listen: 0.0.0.0:\(Self.adapterPorts[adapter]!)
            system: http://\(adapter)-sandbox:\(Self.sandboxPorts[adapter]!)
            data: /var/lib/govbus/\(adapter)
            schemas: /opt/govbus/Schemas
            settings:
            \(settings.map { "  \($0.key): \"\($0.value)\"" }.sorted().joined(separator: "\n"))

            """
    }
}
