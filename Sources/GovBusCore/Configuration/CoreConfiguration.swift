public import Foundation
public import GovBusConfiguration
public import GovBusStore

/// config/core.yaml: where the core finds the broker, its other files and its data. Paths are
/// relative to the file's folder. The environment overrides: GOVBUS_AMQP_URL, GOVBUS_DATA_DIR,
/// GOVBUS_TELEMETRY (where `/metrics` and `/health` listen: `host:port`, or `off`),
/// GOVBUS_CORE_SIGNING_KEY (`<key id>:<base64 seed>`), GOVBUS_STORE, GOVBUS_CORE_PARTITIONS,
/// GOVBUS_CORE_INSTANCE.
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
/// operatorToken: <32 characters or more>    # optional; GOVBUS_OPERATOR_TOKEN overrides
/// signingKey: {id: core-2026-01, seed: <base64>}   # the core's key; its public key in routes.yaml's core
/// auditCheckpoints: ../var/core/audit-checkpoints.jsonl   # default: in the data folder
/// auditCheckpointInterval: 60s
/// store: postgres://govbus:secret@127.0.0.1:5432/govbus   # default: SQLite files in the data folder
/// partitions: 8        # queues govbus.core.ingress.0…7, shared by dossier among the cores; default 1
/// instance: 0/2        # this core's place among the cores: it takes partitions 0, 2, 4… first
/// ```
public struct CoreConfiguration: Sendable {
    public var amqpURL: String
    public var routes: URL
    public var procedures: URL
    /// The communes reorganised (`CommuneChanges`); none: no commune has been replaced.
    public var communes: URL?
    public var schemas: URL
    public var dataDirectory: URL
    public var auditBodyRetention: Duration
    public var drainTimeout: Duration
    /// Where `/metrics` and `/health` are served; nil: nowhere.
    public var telemetry: ListenAddress?
    /// The bearer token the console shows to act on dossiers (`POST /operator/...` beside
    /// `/metrics`); nil: no such actions. GOVBUS_OPERATOR_TOKEN overrides. At least 32
    /// characters from either source, or the core does not start. Its one holder is the console.
    public var operatorToken: String?
    /// The core's own Ed25519 key: key id and base64 32-byte seed. It signs the audit log's
    /// checkpoints (and what the core sends); its public key goes in routes.yaml's
    /// `core: {keys: ...}`. GOVBUS_CORE_SIGNING_KEY (`<key id>:<base64 seed>`) overrides. nil: no
    /// checkpoints.
    public var signingKey: (id: String, seed: String)?
    /// Where the core appends its signed audit checkpoints, one JSON line each (created 0600):
    /// an operator ships this file off the machine. Default: `audit-checkpoints.jsonl` in the data folder.
    public var auditCheckpoints: URL
    /// How often the core makes a checkpoint when the audit log has moved (and once at shutdown).
    public var auditCheckpointInterval: Duration
    /// Where the dossiers, the transitions, the timers, the ledger and the audit log are kept:
    /// SQLite files in the data folder (one core), or a PostgreSQL database several cores share.
    public var store: StoreLocation
    /// How many queues the core's ingress is split into, by dossier (`CoreTopology`). The same
    /// for every core of a bus; 1 is the single queue `govbus.core.ingress`.
    public var partitions: Int
    /// This core's place among `cores`: it registers first on the partitions `index`, `index +
    /// cores`, …, and on the others a moment later, as a standby.
    public var instance: (index: Int, cores: Int)
    /// How long a core waits before it registers as a standby on the others' partitions. Cores
    /// started together must each register on their own first: a partition's active consumer is
    /// the first registered, so a core that comes up later than this finds them all taken.
    public var standbyDelay: Duration

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
            allowed: [
                "amqpUrl", "routes", "procedures", "schemas", "data", "auditBodyRetention", "drainTimeout", "telemetry",
                "operatorToken", "signingKey", "auditCheckpoints", "auditCheckpointInterval", "store", "partitions", "instance",
                "standbyDelay", "communes",
            ],
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
        communes = try members.value("communes").map { _ throws(ConfigurationError) in try path("communes", default: "") }
        schemas = try path("schemas", default: "../Schemas")
        if let data = environment["GOVBUS_DATA_DIR"] {
            dataDirectory = URL(fileURLWithPath: data)
        } else {
            dataDirectory = try path("data", default: "../var/core")
        }
        auditBodyRetention = try members.value("auditBodyRetention")?.duration(what: "auditBodyRetention") ?? .seconds(90 * 86400)
        drainTimeout = try members.value("drainTimeout")?.duration(what: "drainTimeout") ?? .seconds(10)
        // Whichever source gives it, a short token stops the core, naming that source.
        if let token = environment["GOVBUS_OPERATOR_TOKEN"] {
            if let problem = OperatorEndpoint.tokenProblem(token, source: "GOVBUS_OPERATOR_TOKEN (the environment)") {
                throw root.error(problem)
            }
            operatorToken = token
        } else if let value = members.value("operatorToken") {
            let token = try value.string(what: "operatorToken")
            if let problem = OperatorEndpoint.tokenProblem(token, source: "operatorToken") { throw value.error(problem) }
            operatorToken = token
        } else {
            operatorToken = nil
        }
        if let text = environment["GOVBUS_CORE_SIGNING_KEY"] {
            // `<key id>:<base64 seed>`: base64 has no colon, so the last one splits.
            guard let colon = text.lastIndex(of: ":"), colon > text.startIndex,
                Data(base64Encoded: String(text[text.index(after: colon)...]))?.count == 32
            else {
                throw root.error("GOVBUS_CORE_SIGNING_KEY (the environment) must be <key id>:<base64 of a 32-byte Ed25519 seed>")
            }
            signingKey = (String(text[..<colon]), String(text[text.index(after: colon)...]))
        } else if let key = members.value("signingKey") {
            let fields = try key.mapping(allowed: ["id", "seed"], what: "signingKey")
            let seedValue = try fields.required("seed", in: "signingKey", at: key)
            let seed = try seedValue.string(what: "signingKey.seed")
            guard Data(base64Encoded: seed)?.count == 32 else {
                throw seedValue.error("signingKey.seed must be the base64 of a 32-byte Ed25519 seed")
            }
            signingKey = (try fields.required("id", in: "signingKey", at: key).string(what: "signingKey.id"), seed)
        } else {
            signingKey = nil
        }
        if members.value("auditCheckpoints") != nil {
            auditCheckpoints = try path("auditCheckpoints", default: "")
        } else {
            auditCheckpoints = dataDirectory.appendingPathComponent("audit-checkpoints.jsonl")
        }
        auditCheckpointInterval =
            try members.value("auditCheckpointInterval")?.duration(what: "auditCheckpointInterval") ?? .seconds(60)
        store = try StoreLocation.configured(
            environment: environment, value: members.value("store"), root: root, folder: folder,
            default: .sqlite(folder: dataDirectory))
        if let text = environment["GOVBUS_CORE_PARTITIONS"] {
            guard let count = Int(text), (1...256).contains(count) else {
                throw root.error("GOVBUS_CORE_PARTITIONS (the environment) must be a number from 1 to 256")
            }
            partitions = count
        } else if let value = members.value("partitions") {
            guard let count = Int(try value.string(what: "partitions")), (1...256).contains(count) else {
                throw value.error("partitions must be a number from 1 to 256")
            }
            partitions = count
        } else {
            partitions = 1
        }
        let instanceText: String?
        let instanceSource: String
        if let text = environment["GOVBUS_CORE_INSTANCE"] {
            (instanceText, instanceSource) = (text, "GOVBUS_CORE_INSTANCE (the environment)")
        } else {
            (instanceText, instanceSource) = (try members.value("instance")?.string(what: "instance"), "instance")
        }
        if let instanceText {
            let parts = instanceText.split(separator: "/").map { Int($0) }
            guard parts.count == 2, let index = parts[0], let cores = parts[1], cores >= 1, (0..<cores).contains(index) else {
                throw root.error("\(instanceSource) must be <index>/<cores>, 0 ≤ index < cores (e.g. 0/2)")
            }
            instance = (index, cores)
        } else {
            instance = (0, 1)
        }
        standbyDelay = try members.value("standbyDelay")?.duration(what: "standbyDelay") ?? CoreRouter.defaultStandbyDelay
        if let text = environment["GOVBUS_TELEMETRY"] {
            telemetry = try ListenAddress.parseOrOff(text, what: "GOVBUS_TELEMETRY", at: root)
        } else if let value = members.value("telemetry") {
            telemetry = try ListenAddress.parseOrOff(try value.string(what: "telemetry"), what: "telemetry", at: value)
        } else {
            telemetry = ListenAddress(host: "127.0.0.1", port: 9464)
        }
    }
}
