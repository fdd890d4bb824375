import AMQPTesting
import Crypto
import Foundation
import Glibc
import GovBusConsole
import GovBusCore

/// What `govbus up` starts, and where: ports from a base (`core` serves /metrics at base, the
/// adapters listen at base+1 to base+4, their sandboxes at base+11 to base+14), a work folder
/// with every configuration file, data folder and log, and the broker's vhost and users.
struct LocalStack {
    static let connectors = ["portal", "registry", "payment", "document"]

    let repository: URL
    let work: URL
    let portBase: Int
    let vhost: String
    /// The broker's host and AMQP port.
    let amqpHost: String
    let amqpPort: Int
    /// Secrets made once per work folder: the core's and each adapter's broker password, the
    /// console's accounts' passwords.
    let passwords: [String: String]
    /// The management API, with its credentials (for the console's queue figures).
    let managementURL: String
    /// Tries of a failing inbox message before the dead letters.
    var inboxRetries = 16

    var logs: URL { work.appendingPathComponent("logs") }
    func adapterPort(_ name: String) -> Int { portBase + 1 + Self.connectors.firstIndex(of: name)! }
    func sandboxPort(_ name: String) -> Int { portBase + 11 + Self.connectors.firstIndex(of: name)! }
    var corePort: Int { portBase }
    var consolePort: Int { portBase + 20 }

    /// The console's accounts: one operator, one viewer.
    static let consoleAccounts = ["operator", "viewer"]

    func password(of user: String) -> String { passwords[user] ?? "" }

    func amqpURL(user: String) -> String {
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
        return "amqp://\(encode(user)):\(encode(passwords[user] ?? ""))@\(amqpHost):\(amqpPort)/\(encode(vhost))"
    }

    /// The sandbox keys of config/routes.yaml: seed = sha256("govbus-sandbox-<adapter>").
    static func sandboxSeed(_ adapter: String) -> String {
        Data(SHA256.hash(data: Data("govbus-sandbox-\(adapter)".utf8))).base64EncodedString()
    }

    /// The shared secrets between each adapter and its sandbox (local only).
    static let portalSecret = "govbus-sandbox-portal-hmac"
    static let paymentTmnCode = "GOVBUS01"
    static let paymentSecret = "govbus-sandbox-vnpay-secret"
    static let publicPaymentPage = "https://sandbox.vnpayment.vn"

    /// Writes core.yaml, console.yaml and one file per adapter.
    func writeConfigurations() throws {
        let accounts = try Self.consoleAccounts.map { name in
            "  - {name: \(name), role: \(name), passwordHash: \"\(try ConsoleServer.hashPassword(password(of: "console-\(name)")))\"}"
        }
        try """
        # Written by govbus up.
        listen: 127.0.0.1:\(consolePort)
        amqpUrl: \(amqpURL(user: "govbus-core"))
        managementUrl: \(managementURL)
        coreData: core
        data: console
        signingKey: {id: console-sandbox, seed: \(Self.sandboxSeed("console"))}
        core: {url: "http://127.0.0.1:\(corePort)", operatorToken: \(password(of: "operator-token"))}
        operators:
        \(accounts.joined(separator: "\n"))
        """.write(to: work.appendingPathComponent("console.yaml"), atomically: true, encoding: .utf8)
        chmod(work.appendingPathComponent("console.yaml").path, 0o600)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let config = repository.appendingPathComponent("config")
        try """
        # Written by govbus up.
        amqpUrl: \(amqpURL(user: "govbus-core"))
        routes: \(config.appendingPathComponent("routes.yaml").path)
        procedures: \(config.appendingPathComponent("procedures.yaml").path)
        schemas: \(repository.appendingPathComponent("Schemas").path)
        data: core
        telemetry: 127.0.0.1:\(corePort)
        drainTimeout: 5s
        """.write(to: work.appendingPathComponent("core.yaml"), atomically: true, encoding: .utf8)
        // They hold broker passwords and shared secrets.
        chmod(work.appendingPathComponent("core.yaml").path, 0o600)
        for name in Self.connectors {
            try """
            # Written by govbus up.
            name: \(name)
            amqpUrl: \(amqpURL(user: name))
            signingKey: {id: \(name)-sandbox, seed: \(Self.sandboxSeed(name))}
            listen: 127.0.0.1:\(adapterPort(name))
            system: http://127.0.0.1:\(sandboxPort(name))
            data: \(name)
            schemas: \(repository.appendingPathComponent("Schemas").path)
            heartbeat: 10s
            inboxRetries: \(inboxRetries)
            settings:
            \(settings(name).map { "  \($0.key): \"\($0.value)\"" }.sorted().joined(separator: "\n"))
            """.write(to: work.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
            chmod(work.appendingPathComponent("\(name).yaml").path, 0o600)
        }
    }

    func settings(_ name: String) -> [String: String] {
        switch name {
        case "portal": ["hmacSecret": Self.portalSecret, "handlerName": "Hệ thống GovBus"]
        case "registry":
            [
                "xroadInstance": "VN", "clientMemberClass": "GOV", "clientMemberCode": "000.00.00.H01",
                "clientSubsystem": "GOVBUS", "serviceMemberClass": "GOV", "serviceMemberCode": "000.00.00.G06",
                "serviceSubsystem": "DANCU",
            ]
        case "payment":
            [
                "tmnCode": Self.paymentTmnCode, "hashSecret": Self.paymentSecret,
                "returnUrl": "https://dichvucong.sandbox.govbus.local/thanh-toan/ket-qua",
                // Citizens open the gateway's public page; the portal sandbox maps it to the local one.
                "paymentPageUrl": Self.publicPaymentPage,
            ]
        case "document": ["organName": "Cổng tích hợp GovBus", "senderOrganId": "000.00.00.H01", "place": "Hà Nội"]
        default: [:]
        }
    }

    /// The arguments of `govbus sandbox NAME`.
    func sandboxArguments(_ name: String) -> [String] {
        var arguments = [
            "sandbox", name, "--port", "\(sandboxPort(name))", "--data", work.appendingPathComponent("sandbox-\(name)").path,
        ]
        switch name {
        case "portal":
            arguments += [
                "--adapter-url", "http://127.0.0.1:\(adapterPort("portal"))/portal/dossiers", "--hmac-secret", Self.portalSecret,
                "--payment-page", "\(Self.publicPaymentPage)=http://127.0.0.1:\(sandboxPort("payment"))",
            ]
        case "payment":
            arguments += [
                "--ipn-url", "http://127.0.0.1:\(adapterPort("payment"))/vnpay/ipn", "--tmn-code", Self.paymentTmnCode,
                "--hash-secret", Self.paymentSecret,
            ]
        default:
            break
        }
        return arguments
    }
}
