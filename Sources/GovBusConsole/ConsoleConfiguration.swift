public import Foundation
public import GovBusConfiguration
import GovBusCore
public import GovBusStore

/// The console's configuration file. Paths are relative to the file's folder.
///
/// `publicUrl` is where browsers reach the console (`scheme://host[:port]`, served at the root):
/// a login, and any action that says where it comes from, must carry this origin in its `Origin`
/// header, so that no other site can log a browser in or act through its session. It defaults to
/// `http://<listen>`; set it when the console is reached by another name, through a proxy, or
/// over https, and always when `listen` is a wildcard (0.0.0.0, ::), which names no origin.
///
/// ```yaml
/// listen: 127.0.0.1:8090                     # local only unless set otherwise
/// publicUrl: https://console.example.gov.vn  # default http://127.0.0.1:8090 (the listen address)
/// amqpUrl: amqp://govbus-core:secret@127.0.0.1:5672/govbus   # the core's user: replays go as the core
/// managementUrl: http://admin:secret@127.0.0.1:15672         # queue figures (optional)
/// coreData: ../var/core                      # the core's audit.sqlite and dossiers.sqlite
/// store: postgres://console:secret@127.0.0.1/govbus   # the core's store instead (GOVBUS_STORE overrides)
/// data: ../var/console                       # the dead-letter archive (in the store when it is PostgreSQL)
/// signingKey: {id: console-2026-01, seed: <base64>}   # signs edited replays (its public key in routes.yaml's operators)
/// core: {url: http://127.0.0.1:9464, operatorToken: ...}  # where an operator's retry or reject of a dossier goes (token: 32 characters or more)
/// operators:
///   - {name: lan, role: operator, passwordHash: "scrypt$..."}
///   - {name: minh, role: viewer, passwordHash: "scrypt$..."}
///   - {name: hoa, role: officer, passwordHash: "scrypt$..."}   # records fees paid at the counter
/// ```
public struct ConsoleConfiguration: Sendable {
    public enum Role: String, Sendable, Codable {
        /// Sees everything and acts (replay, discard).
        case operator_ = "operator"
        /// Works at the one-stop counter: records the fees citizens pay there in cash, and sees
        /// the dossiers as an operator does; takes no action on the bus.
        case officer
        /// Sees no personal data and takes no action.
        case viewer
    }

    public struct Operator: Sendable {
        public var name: String
        public var role: Role
        public var passwordHash: String
    }

    public var listen: ListenAddress
    /// The console's own origin, `scheme://host[:port]` as browsers write it in `Origin` (no
    /// default port, lower case): from `publicUrl`, else the listen address.
    public var publicOrigin: String
    public var amqpURL: String
    public var managementURL: URL?
    public var coreData: URL
    public var dataDirectory: URL
    /// The core's store, read through the store module: its data folder's SQLite files, or the
    /// PostgreSQL database the cores share (which keeps the dead-letter archive too).
    public var store: StoreLocation
    /// Where the dead-letter archive is kept.
    public var archive: StoreLocation {
        if case .postgres = store { return store }
        return .sqlite(folder: dataDirectory)
    }
    public var operators: [String: Operator]
    /// Key id and base64 Ed25519 seed that sign the dead letters an operator replays after an edit.
    public var signingKey: (id: String, seed: String)?
    /// The core's operator endpoint (beside its /metrics) and its bearer token.
    public var core: (url: URL, token: String)?
    /// The procedures file, for each step's timeout beside the time it took (none: not shown).
    public var procedures: URL?
    /// The communes reorganised (the core's communes file): figures are grouped by the new
    /// commune, and a dossier's timeline shows the change (none: no commune replaced).
    public var communes: URL?
    /// Where a dossier's trace is shown, `{traceId}` standing for its id (e.g.
    /// `http://jaeger:16686/trace/{traceId}`); none: no link.
    public var traceURL: String?

    public init(contentsOf url: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        try self.init(root: try YAMLValue.load(url), folder: url.deletingLastPathComponent(), environment: environment)
    }

    public init(_ text: String, file: String, folder: URL, environment: [String: String] = [:]) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file), folder: folder, environment: environment)
    }

    private init(root: YAMLValue, folder: URL, environment: [String: String]) throws(ConfigurationError) {
        let members = try root.mapping(
            allowed: ["listen", "publicUrl", "amqpUrl", "managementUrl", "coreData", "data", "operators", "signingKey", "core", "store",
                "procedures", "traceUrl", "communes",
            ], what: "the console's configuration")
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
        if let value = members.value("publicUrl") {
            guard let origin = Self.origin(of: try value.string(what: "publicUrl")) else {
                throw value.error("publicUrl must be where browsers reach the console: http(s)://host[:port], without a path")
            }
            publicOrigin = origin
        } else {
            guard !["0.0.0.0", "::", "[::]", "*", ""].contains(listen.host) else {
                throw (members.value("listen") ?? root).error(
                    "listen \(listen) names no address a browser uses: set publicUrl (http(s)://host[:port]) too")
            }
            let host = listen.host.contains(":") && !listen.host.hasPrefix("[") ? "[\(listen.host)]" : listen.host
            guard let origin = Self.origin(of: "http://\(host):\(listen.port)") else {
                throw (members.value("listen") ?? root).error("listen \(listen) makes no URL: set publicUrl")
            }
            publicOrigin = origin
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
        store = try StoreLocation.configured(
            environment: environment, value: members.value("store"), root: root, folder: folder,
            default: .sqlite(folder: coreData))
        var operators: [String: Operator] = [:]
        for entry in try members.required("operators", in: "the console's configuration", at: root).sequence(what: "operators") {
            let fields = try entry.mapping(allowed: ["name", "role", "passwordHash"], what: "an operator")
            let name = try fields.required("name", in: "an operator", at: entry).string(what: "name")
            let roleValue = try fields.required("role", in: "operator '\(name)'", at: entry)
            guard let role = Role(rawValue: try roleValue.string(what: "role")) else {
                throw roleValue.error("the role of '\(name)' must be operator, officer or viewer")
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
            let tokenValue = try fields.required("operatorToken", in: "core", at: value)
            let token = try tokenValue.string(what: "core.operatorToken")
            if let problem = OperatorEndpoint.tokenProblem(token, source: "core.operatorToken") { throw tokenValue.error(problem) }
            core = (url, token)
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
        if members.value("procedures") != nil { procedures = try path("procedures", default: "") }
        if members.value("communes") != nil { communes = try path("communes", default: "") }
        if let value = members.value("traceUrl") {
            let template = try value.string(what: "traceUrl")
            guard template.contains("{traceId}"), let url = URL(string: template.replacingOccurrences(of: "{traceId}", with: "0")),
                ["http", "https"].contains(url.scheme ?? "")
            else {
                throw value.error("traceUrl must be an http(s) URL with {traceId} in it, e.g. http://jaeger:16686/trace/{traceId}")
            }
            traceURL = template
        }
    }

    /// `scheme://host[:port]` of an http(s) URL at the root, as a browser's `Origin` header
    /// writes it; nil for anything else.
    static func origin(of text: String) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty,
            components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil,
            components.user == nil
        else { return nil }
        let bracketed = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        let defaultPort = scheme == "https" ? 443 : 80
        guard let port = components.port, port != defaultPort else { return "\(scheme)://\(bracketed)" }
        return "\(scheme)://\(bracketed):\(port)"
    }
}
