public import Foundation
public import GovBusConfiguration

/// An adapter's configuration file: who it is on the bus, how it signs, where it listens, where it
/// keeps its outbox, and where its external system is. Paths are relative to the file's folder.
///
/// ```yaml
/// name: portal                                   # its broker user and routes-file name
/// amqpUrl: amqp://portal:secret@127.0.0.1:5672/govbus
/// signingKey: {id: portal-sandbox, seed: <base64 of the 32-byte Ed25519 seed>}
/// listen: 127.0.0.1:8081                         # its HTTP side, /health and /metrics
/// system: http://127.0.0.1:9081                  # the external system
/// data: ../var/portal                            # the outbox
/// heartbeat: 10s
/// inboxRetries: 16                               # tries of a failing inbox message before the dead letters
/// settings: {hmacSecret: ...}                    # what this adapter's protocol needs
/// schemas: ../Schemas                            # checks what it sends (recommended)
/// instance: 0/2                                  # with a partitioned inbox: this instance takes partitions 0, 2, … first
/// httpTimeout: 15s                               # each call on the external system (default: the connector's)
/// httpAttempts: 2                                # tries of a call before the inbox's own retries take over
/// ```
public struct AdapterConfiguration: Sendable {
    public var name: String
    public var amqpURL: String
    public var keyID: String
    public var keySeed: String
    public var listen: ListenAddress
    public var system: URL
    public var dataDirectory: URL
    public var heartbeatInterval: Duration
    /// Tries of an inbox message whose external call fails for a while (100 ms doubling to 30 s
    /// between them: 16 is about 5 minutes) before it goes to the dead letters.
    public var inboxRetries: Int
    public var settings: [String: String]
    /// The contracts' folder: when set, every message is checked against its schema before it is
    /// stored, so that bad input is refused at the adapter's door instead of dead-lettered later.
    public var schemas: URL?
    /// This instance's place among the adapter's instances, for a partitioned inbox: it registers
    /// first on the partitions `index`, `index + instances`, …, and on the others a moment later,
    /// as a standby.
    public var instance: (index: Int, instances: Int) = (0, 1)
    /// Overrides of the connector's `HTTPPolicy`.
    public var httpTimeout: Duration?
    public var httpAttempts: Int?
    /// The file, for errors about settings: "portal.yaml: settings.hmacSecret is missing".
    public var file: String

    public init(contentsOf url: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.load(url), folder: url.deletingLastPathComponent())
    }

    public init(_ text: String, file: String, folder: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file), folder: folder)
    }

    private init(root: YAMLValue, folder: URL) throws(ConfigurationError) {
        let members = try root.mapping(
            allowed: [
                "name", "amqpUrl", "signingKey", "listen", "system", "data", "heartbeat", "settings", "schemas", "inboxRetries",
                "instance", "httpTimeout", "httpAttempts",
            ],
            what: "an adapter's configuration")
        file = root.file
        name = try members.required("name", in: "the configuration", at: root).string(what: "name")
        amqpURL = try members.required("amqpUrl", in: "the configuration", at: root).string(what: "amqpUrl")
        let key = try members.required("signingKey", in: "the configuration", at: root)
        let keyMembers = try key.mapping(allowed: ["id", "seed"], what: "signingKey")
        keyID = try keyMembers.required("id", in: "signingKey", at: key).string(what: "signingKey.id")
        let seedValue = try keyMembers.required("seed", in: "signingKey", at: key)
        keySeed = try seedValue.string(what: "signingKey.seed")
        guard let seed = Data(base64Encoded: keySeed), seed.count == 32 else {
            throw seedValue.error("signingKey.seed must be the base64 of a 32-byte Ed25519 seed")
        }
        let listenValue = try members.required("listen", in: "the configuration", at: root)
        guard let listen = try ListenAddress.parseOrOff(try listenValue.string(what: "listen"), what: "listen", at: listenValue)
        else { throw listenValue.error("an adapter must listen: give host:port") }
        self.listen = listen
        let systemValue = try members.required("system", in: "the configuration", at: root)
        guard let system = URL(string: try systemValue.string(what: "system")), system.scheme?.hasPrefix("http") == true else {
            throw systemValue.error("system must be the external system's http(s) URL")
        }
        self.system = system
        let data = try members.value("data")?.string(what: "data") ?? "../var/\(name)"
        dataDirectory = data.hasPrefix("/") ? URL(fileURLWithPath: data) : folder.appendingPathComponent(data)
        heartbeatInterval = try members.value("heartbeat")?.duration(what: "heartbeat") ?? .seconds(10)
        inboxRetries = try members.value("inboxRetries")?.integer(what: "inboxRetries") ?? 16
        if inboxRetries < 1, let value = members.value("inboxRetries") { throw value.error("inboxRetries must be at least 1") }
        if let schemas = try members.value("schemas")?.string(what: "schemas") {
            self.schemas = schemas.hasPrefix("/") ? URL(fileURLWithPath: schemas) : folder.appendingPathComponent(schemas)
        }
        if let value = members.value("instance") {
            let parts = try value.string(what: "instance").split(separator: "/").map { Int($0) }
            guard parts.count == 2, let index = parts[0], let instances = parts[1], instances >= 1, (0..<instances).contains(index)
            else { throw value.error("instance must be <index>/<instances>, 0 ≤ index < instances (e.g. 1/2)") }
            instance = (index, instances)
        }
        if let value = members.value("httpTimeout") {
            let timeout = try value.duration(what: "httpTimeout")
            guard timeout >= .seconds(1), timeout <= .seconds(600) else { throw value.error("httpTimeout must be from 1s to 10m") }
            httpTimeout = timeout
        }
        if let value = members.value("httpAttempts") {
            let attempts = try value.integer(what: "httpAttempts")
            guard (1...10).contains(attempts) else { throw value.error("httpAttempts must be from 1 to 10") }
            httpAttempts = attempts
        }
        var settings: [String: String] = [:]
        for (key, value) in try members.value("settings")?.mapping(what: "settings") ?? [] {
            settings[key] = try value.string(what: "settings.\(key)")
        }
        self.settings = settings
    }

    /// A setting this adapter cannot do without.
    public func setting(_ key: String) throws -> String {
        guard let value = settings[key], !value.isEmpty else {
            throw ConfigurationError(file: file, line: 1, message: "settings.\(key) is missing")
        }
        return value
    }
}
