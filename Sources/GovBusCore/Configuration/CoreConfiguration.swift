public import Foundation

/// config/core.yaml: where the core finds the broker, its other files and its data. Paths are
/// relative to the file's folder. The environment overrides: GOVBUS_AMQP_URL, GOVBUS_DATA_DIR,
/// GOVBUS_TELEMETRY (where `/metrics` and `/health` listen: `host:port`, or `off`).
///
/// ```yaml
/// amqpUrl: amqp://govbus-core:secret@127.0.0.1:5672/govbus
/// routes: routes.yaml
/// procedures: procedures.yaml
/// schemas: ../Schemas
/// data: ../var/core
/// auditBodyRetention: 90d
/// drainTimeout: 10s
/// telemetry: 127.0.0.1:9464
/// ```
public struct CoreConfiguration: Sendable {
    public var amqpURL: String
    public var routes: URL
    public var procedures: URL
    public var schemas: URL
    public var dataDirectory: URL
    public var auditBodyRetention: Duration
    public var drainTimeout: Duration
    /// Where `/metrics` and `/health` are served; nil: nowhere.
    public var telemetry: ListenAddress?
    /// The bearer token the console shows to act on dossiers (`POST /operator/...` beside
    /// `/metrics`); nil: no such actions. GOVBUS_OPERATOR_TOKEN overrides.
    public var operatorToken: String?

    public init(contentsOf url: URL, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        try self.init(root: try YAMLValue.load(url), folder: url.deletingLastPathComponent(), environment: environment)
    }

    public init(_ text: String, file: String, folder: URL, environment: [String: String]) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file), folder: folder, environment: environment)
    }

    private init(root: YAMLValue, folder: URL, environment: [String: String]) throws(ConfigurationError) {
        let members = try root.mapping(
            allowed: ["amqpUrl", "routes", "procedures", "schemas", "data", "auditBodyRetention", "drainTimeout", "telemetry", "operatorToken"],
            what: "the core's configuration")
        func path(_ key: String, default value: String) throws(ConfigurationError) -> URL {
            let text = try members.value(key)?.string(what: key) ?? value
            return text.hasPrefix("/") ? URL(fileURLWithPath: text) : folder.appendingPathComponent(text)
        }
        if let url = environment["GOVBUS_AMQP_URL"] {
            amqpURL = url
        } else if let value = members.value("amqpUrl") {
            amqpURL = try value.string(what: "amqpUrl")
        } else {
            throw root.error("no broker: set amqpUrl here or GOVBUS_AMQP_URL in the environment")
        }
        routes = try path("routes", default: "routes.yaml")
        procedures = try path("procedures", default: "procedures.yaml")
        schemas = try path("schemas", default: "../Schemas")
        if let data = environment["GOVBUS_DATA_DIR"] {
            dataDirectory = URL(fileURLWithPath: data)
        } else {
            dataDirectory = try path("data", default: "../var/core")
        }
        auditBodyRetention = try members.value("auditBodyRetention")?.duration(what: "auditBodyRetention") ?? .seconds(90 * 86400)
        drainTimeout = try members.value("drainTimeout")?.duration(what: "drainTimeout") ?? .seconds(10)
        if let token = environment["GOVBUS_OPERATOR_TOKEN"] {
            operatorToken = token
        } else {
            operatorToken = try members.value("operatorToken")?.string(what: "operatorToken")
        }
        if let token = operatorToken, token.count < 24, let value = members.value("operatorToken") {
            throw value.error("operatorToken must be at least 24 characters")
        }
        if let text = environment["GOVBUS_TELEMETRY"] {
            telemetry = try ListenAddress.parseOrOff(text, what: "GOVBUS_TELEMETRY", at: root)
        } else if let value = members.value("telemetry") {
            telemetry = try ListenAddress.parseOrOff(try value.string(what: "telemetry"), what: "telemetry", at: value)
        } else {
            telemetry = ListenAddress(host: "127.0.0.1", port: 9464)
        }
    }
}
