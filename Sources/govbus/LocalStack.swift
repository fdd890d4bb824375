import Crypto
import Foundation
import GovBus
import GovBusConfiguration
import GovBusConsole
import GovBusCore

/// What `govbus up` starts, and where: ports from a base (`core` serves /metrics at base, the
/// adapters listen at base+1 to base+4, their sandboxes at base+11 to base+14), a work folder
/// with every configuration file, data folder and log, and the broker's vhost and users.
struct LocalStack {
    static let connectors = ["portal", "registry", "payment", "document"] + AgencyConnectors.all.map(\.name)

    let repository: URL
    let work: URL
    let portBase: Int
    let vhost: String
    /// The broker's nodes, `host:port` each, separated by commas: the first is tried first.
    let amqpNodes: String
    /// Secrets made once per work folder: the core's and each adapter's broker password, the
    /// console's accounts' passwords.
    let passwords: [String: String]
    /// The management API, with its credentials (for the console's queue figures).
    let managementURL: String
    /// Tries of a failing inbox message before the dead letters.
    var inboxRetries = 16
    /// The cores' PostgreSQL database; nil: SQLite files in the first core's data folder.
    var store: String?
    /// Adapters that run as several instances, and how many: their inboxes are split into
    /// partitions (a routes file of the work folder's says so) that the instances share.
    var instances: [String: Int] = [:]
    static let inboxPartitions = 8

    /// Instance `index` of an adapter: its child's and its configuration's name.
    static func instanceName(_ adapter: String, _ index: Int) -> String { index == 0 ? adapter : "\(adapter)-\(index + 1)" }

    /// Where instance `index` (from 1) of an adapter listens: base+41 and on.
    func adapterPort(_ name: String, instance index: Int) -> Int {
        index == 0 ? adapterPort(name) : portBase + 40 + Self.connectors.firstIndex(of: name)! * 4 + index
    }

    /// The routes file the core reads: the repository's, or the work folder's copy that splits
    /// the inboxes of adapters with several instances.
    var routesFile: URL {
        instances.values.contains { $0 > 1 }
            ? work.appendingPathComponent("routes.yaml") : repository.appendingPathComponent("config/routes.yaml")
    }

    var logs: URL { work.appendingPathComponent("logs") }
    func adapterPort(_ name: String) -> Int { portBase + 1 + Self.connectors.firstIndex(of: name)! }
    func sandboxPort(_ name: String) -> Int { portBase + 11 + Self.connectors.firstIndex(of: name)! }
    var corePort: Int { portBase }
    /// Core `index`'s /metrics: the first at the base, the others at base+31, base+32, …
    func corePort(_ index: Int) -> Int { index == 0 ? portBase : portBase + 30 + index }
    /// Core `index`'s data folder in the work folder.
    func coreFolder(_ index: Int) -> String { index == 0 ? "core" : "core-\(index)" }
    var consolePort: Int { portBase + 20 }

    /// The console's accounts: an operator, an officer at the counter, a viewer.
    static let consoleAccounts = ["operator", "officer", "viewer"]

    func password(of user: String) -> String { passwords[user] ?? "" }

    func amqpURL(user: String) -> String {
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        return "amqp://\(encode(user)):\(encode(passwords[user] ?? ""))@\(amqpNodes)/\(encode(vhost))"
    }

    /// The sandbox keys of config/routes.yaml: seed = sha256("govbus-sandbox-<adapter>"), and
    /// likewise the console's ("console") and the core's ("core").
    /// Public: the core and the console accept them only in sandbox mode, which govbus up sets for them.
    static func sandboxSeed(_ adapter: String) -> String {
        PublicSandboxKeys.seed(of: adapter).base64EncodedString()
    }

    /// The shared secrets between each adapter and its sandbox (local only): the sandboxes' defaults.
    static let portalSecret = SandboxCommand.defaultHMACSecret
    static let paymentTmnCode = "GOVBUS01"
    static let paymentSecret = SandboxCommand.defaultHashSecret
    static let publicPaymentPage = "https://sandbox.vnpayment.vn"

    /// Writes core.yaml, console.yaml and one file per adapter, each 0600 from the start: they
    /// hold broker passwords, signing seeds and shared secrets.
    func writeConfigurations() throws {
        func write(_ text: String, to name: String) throws {
            try SecretFile.write(Data(text.utf8), to: work.appendingPathComponent(name))
        }
        let accounts = try Self.consoleAccounts.map { name in
            "  - {name: \(name), role: \(name), passwordHash: \"\(try ConsoleServer.hashPassword(password(of: "console-\(name)")))\"}"
        }
        try write(
            """
        # Written by govbus up. Its signing key is a public sandbox key: the console takes it only in
        # sandbox mode (GOVBUS_SANDBOX_KEYS=allow, which govbus up sets for it); `govbus keys new` makes a real one.
        listen: 127.0.0.1:\(consolePort)
        amqpUrl: \(amqpURL(user: "govbus-core"))
        managementUrl: \(managementURL)
        coreData: core\(store.map { "\nstore: \"\($0)\"" } ?? "")
        data: console
        signingKey: {id: console-sandbox, seed: \(Self.sandboxSeed("console"))}
        core: {url: "http://127.0.0.1:\(corePort)", operatorToken: \(password(of: "operator-token"))}
        procedures: \(repository.appendingPathComponent("config/procedures.yaml").path)
        communes: \(repository.appendingPathComponent("config/communes.yaml").path)\(
            ProcessInfo.processInfo.environment["GOVBUS_TRACE_URL"].map { "\ntraceUrl: \"\($0)\"" } ?? "")
        operators:
        \(accounts.joined(separator: "\n"))
        """, to: "console.yaml")
        try SecretFile.makeDirectory(at: logs)
        let config = repository.appendingPathComponent("config")
        try write(
            """
        # Written by govbus up. Its signing key, and the keys routes.yaml trusts, are the sandbox's public
        # keys: the core takes them only in sandbox mode (GOVBUS_SANDBOX_KEYS=allow, which govbus up sets for it).
        amqpUrl: \(amqpURL(user: "govbus-core"))
        routes: \(routesFile.path)
        procedures: \(config.appendingPathComponent("procedures.yaml").path)
        communes: \(config.appendingPathComponent("communes.yaml").path)
        schemas: \(repository.appendingPathComponent("Schemas").path)
        data: core
        telemetry: 127.0.0.1:\(corePort)
        drainTimeout: 5s
        signingKey: {id: core-sandbox, seed: \(Self.sandboxSeed("core"))}
        """, to: "core.yaml")
        if routesFile != config.appendingPathComponent("routes.yaml") {
            // The sample routes, with `partitions` for each adapter that runs as several instances.
            var lines: [String] = []
            for line in try String(contentsOf: config.appendingPathComponent("routes.yaml"), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            {
                lines.append(String(line))
                let name = line.trimmingCharacters(in: .whitespaces).dropLast()
                if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":"), (instances[String(name)] ?? 1) > 1 {
                    lines.append("    partitions: \(Self.inboxPartitions)")
                }
            }
            try write(lines.joined(separator: "\n"), to: "routes.yaml")
        }
        for name in Self.connectors {
            let count = instances[name] ?? 1
            for index in 0..<count {
                try write(
                    """
                # Written by govbus up.
                name: \(name)
                amqpUrl: \(amqpURL(user: name))
                signingKey: {id: \(name)-sandbox, seed: \(Self.sandboxSeed(name))}
                listen: 127.0.0.1:\(adapterPort(name, instance: index))
                system: http://127.0.0.1:\(sandboxPort(name))
                instance: \(index)/\(count)
                data: \(Self.instanceName(name, index))
                schemas: \(repository.appendingPathComponent("Schemas").path)
                heartbeat: 10s
                inboxRetries: \(inboxRetries)
                \(Self.settingsBlock(settings(name)))
                """, to: "\(Self.instanceName(name, index)).yaml")
            }
        }
    }

    /// `settings:` and its lines; `settings: {}` for a connector that has none (a new agency's).
    static func settingsBlock(_ settings: [String: String]) -> String {
        guard !settings.isEmpty else { return "settings: {}" }
        return (["settings:"] + settings.map { "  \($0.key): \"\($0.value)\"" }.sorted()).joined(separator: "\n")
    }

    func settings(_ name: String) -> [String: String] {
        Self.settings(name, portalSecret: Self.portalSecret, paymentSecret: Self.paymentSecret)
    }

    /// An adapter's settings, with the secrets it shares with its system.
    static func settings(_ name: String, portalSecret: String, paymentSecret: String) -> [String: String] {
        switch name {
        case "portal": ["hmacSecret": portalSecret, "handlerName": "Hệ thống GovBus"]
        case "registry":
            [
                "xroadInstance": "VN", "clientMemberClass": "GOV", "clientMemberCode": "000.00.00.H01",
                "clientSubsystem": "GOVBUS", "serviceMemberClass": "GOV", "serviceMemberCode": "000.00.00.G06",
                "serviceSubsystem": "DANCU",
            ]
        case "payment":
            [
                "tmnCode": paymentTmnCode, "hashSecret": paymentSecret,
                "returnUrl": "https://dichvucong.sandbox.govbus.local/thanh-toan/ket-qua",
                // Citizens open the gateway's public page; the portal sandbox maps it to the local one.
                "paymentPageUrl": publicPaymentPage,
            ]
        case "document": ["organName": "Cổng tích hợp GovBus", "senderOrganId": "000.00.00.H01", "place": "Hà Nội"]
        default: [:]
        }
    }

    /// The environment of `govbus sandbox NAME`: its secrets, which never go on a command line.
    func sandboxEnvironment(_ name: String) -> [String: String] {
        switch name {
        case "portal": ["GOVBUS_PORTAL_HMAC_SECRET": Self.portalSecret]
        case "payment": ["GOVBUS_PAYMENT_HASH_SECRET": Self.paymentSecret]
        default: [:]
        }
    }

    /// The arguments of `govbus sandbox NAME` (its secrets are in `sandboxEnvironment`).
    func sandboxArguments(_ name: String) -> [String] {
        var arguments = [
            "sandbox", name, "--port", "\(sandboxPort(name))", "--data", work.appendingPathComponent("sandbox-\(name)").path,
        ]
        switch name {
        case "portal":
            arguments += [
                "--adapter-url", "http://127.0.0.1:\(adapterPort("portal"))/portal/dossiers",
                "--payment-page", "\(Self.publicPaymentPage)=http://127.0.0.1:\(sandboxPort("payment"))",
            ]
        case "payment":
            arguments += [
                "--ipn-url", "http://127.0.0.1:\(adapterPort("payment"))/vnpay/ipn", "--tmn-code", Self.paymentTmnCode,
            ]
        default:
            break
        }
        return arguments
    }
}
