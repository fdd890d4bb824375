public import Foundation
public import GovBusCore

/// The console's configuration file. Paths are relative to the file's folder.
///
/// ```yaml
/// listen: 127.0.0.1:8090                     # local only unless set otherwise
/// amqpUrl: amqp://govbus-core:secret@127.0.0.1:5672/govbus   # the core's user: replays go as the core
/// managementUrl: http://admin:secret@127.0.0.1:15672         # queue figures (optional)
/// coreData: ../var/core                      # the core's audit.sqlite and dossiers.sqlite
/// data: ../var/console                       # the dead-letter archive
/// signingKey: {id: console-2026-01, seed: <base64>}   # signs edited replays (its public key in routes.yaml's operators)
/// core: {url: http://127.0.0.1:9464, operatorToken: ...}  # where an operator's retry or reject of a dossier goes
/// operators:
///   - {name: lan, role: operator, passwordHash: "scrypt$..."}
///   - {name: minh, role: viewer, passwordHash: "scrypt$..."}
/// ```
public struct ConsoleConfiguration: Sendable {
    public enum Role: String, Sendable, Codable {
        /// Sees everything and acts (replay, discard).
        case operator_ = "operator"
        /// Sees no personal data and takes no action.
        case viewer
    }

    public struct Operator: Sendable {
        public var name: String
        public var role: Role
        public var passwordHash: String
    }

    public var listen: ListenAddress
    public var amqpURL: String
    public var managementURL: URL?
    public var coreData: URL
    public var dataDirectory: URL
    public var operators: [String: Operator]
    /// Key id and base64 Ed25519 seed that sign the dead letters an operator replays after an edit.
    public var signingKey: (id: String, seed: String)?
    /// The core's operator endpoint (beside its /metrics) and its bearer token.
    public var core: (url: URL, token: String)?

    public init(contentsOf url: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.load(url), folder: url.deletingLastPathComponent())
    }

    public init(_ text: String, file: String, folder: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file), folder: folder)
    }

    private init(root: YAMLValue, folder: URL) throws(ConfigurationError) {
        let members = try root.mapping(
            allowed: ["listen", "amqpUrl", "managementUrl", "coreData", "data", "operators", "signingKey", "core"], what: "the console's configuration")
        func path(_ key: String, default value: String) throws(ConfigurationError) -> URL {
            let text = try members.value(key)?.string(what: key) ?? value
            return text.hasPrefix("/") ? URL(fileURLWithPath: text) : folder.appendingPathComponent(text)
        }
        if let value = members.value("listen") {
            guard let address = try ListenAddress.parseOrOff(try value.string(what: "listen"), what: "listen", at: value) else {
                throw value.error("the console must listen: give host:port")
            }
            listen = address
        } else {
            listen = ListenAddress(host: "127.0.0.1", port: 8090)
        }
        amqpURL = try members.required("amqpUrl", in: "the console's configuration", at: root).string(what: "amqpUrl")
        if let value = members.value("managementUrl") {
            guard let url = URL(string: try value.string(what: "managementUrl")), url.host != nil else {
                throw value.error("managementUrl must be http://user:password@host:15672")
            }
            managementURL = url
        }
        coreData = try path("coreData", default: "../var/core")
        dataDirectory = try path("data", default: "../var/console")
        var operators: [String: Operator] = [:]
        for entry in try members.required("operators", in: "the console's configuration", at: root).sequence(what: "operators") {
            let fields = try entry.mapping(allowed: ["name", "role", "passwordHash"], what: "an operator")
            let name = try fields.required("name", in: "an operator", at: entry).string(what: "name")
            let roleValue = try fields.required("role", in: "operator '\(name)'", at: entry)
            guard let role = Role(rawValue: try roleValue.string(what: "role")) else {
                throw roleValue.error("the role of '\(name)' must be operator or viewer")
            }
            let hashValue = try fields.required("passwordHash", in: "operator '\(name)'", at: entry)
            let hash = try hashValue.string(what: "passwordHash")
            guard hash.hasPrefix("scrypt$"), hash.split(separator: "$").count == 6 else {
                throw hashValue.error("the passwordHash of '\(name)' is not a hash of govbus console hash-password")
            }
            guard operators[name] == nil else { throw entry.error("operator '\(name)' is listed twice") }
            operators[name] = Operator(name: name, role: role, passwordHash: hash)
        }
        guard !operators.isEmpty else { throw root.error("no operators: nobody could log in") }
        if let value = members.value("core") {
            let fields = try value.mapping(allowed: ["url", "operatorToken"], what: "core")
            let urlValue = try fields.required("url", in: "core", at: value)
            guard let url = URL(string: try urlValue.string(what: "core.url")), url.host != nil else {
                throw urlValue.error("core.url must be the core's telemetry address: http://127.0.0.1:9464")
            }
            core = (url, try fields.required("operatorToken", in: "core", at: value).string(what: "core.operatorToken"))
        }
        if let key = members.value("signingKey") {
            let fields = try key.mapping(allowed: ["id", "seed"], what: "signingKey")
            let seedValue = try fields.required("seed", in: "signingKey", at: key)
            let seed = try seedValue.string(what: "signingKey.seed")
            guard Data(base64Encoded: seed)?.count == 32 else {
                throw seedValue.error("signingKey.seed must be the base64 of a 32-byte Ed25519 seed")
            }
            signingKey = (try fields.required("id", in: "signingKey", at: key).string(what: "signingKey.id"), seed)
        }
        self.operators = operators
    }
}
