public import Foundation
public import GovBusConfiguration

/// config/routes.yaml: the adapters, their signing keys, the types each may publish and receive,
/// and content-based rules that pick the receiving adapter by procedure, agency or commune.
///
/// ```yaml
/// adapters:
///   portal:
///     keys: {portal-2026-01: <base64 Ed25519 public key>}
///     publishes: [portal.dossier.submitted.v1, bus.adapter.heartbeat.v1]
///     receives: [portal.dossier.status-changed.v1]
///   document-hanoi:
///     keys: {document-hanoi-2026-01: <base64>}
///     publishes: [document.issued.v1, document.issue-failed.v1]
///     receives: [document.issue-requested.v1]
/// rules:
///   - type: document.issue-requested.v1
///     when: {communeCode: "00004"}
///     to: document-hanoi
/// operators:                  # the console's keys: a dead letter an operator edited is signed with one
///   keys: {console-2026-01: <base64>}
/// core:                       # the core's keys: what the core signs (its audit checkpoints, its messages)
///   keys: {core-2026-01: <base64>}
/// ```
public struct RoutesFile: Sendable, Hashable {
    public struct Adapter: Sendable, Hashable {
        public let name: String
        /// Key id → base64 Ed25519 public key.
        public let keys: [String: String]
        public let publishes: Set<String>
        public let receives: Set<String>
        /// How many queues its inbox is split into, by dossier, for several instances of the
        /// adapter to share (`CoreTopology`); 1: the single queue `govbus.adapter.<name>`.
        public var inboxPartitions = 1
    }

    /// A rule for a type several adapters receive: which one gets a given message.
    public struct Rule: Sendable, Hashable {
        public enum Field: String, Sendable, Hashable, CaseIterable {
            case procedureCode, receivingAgency, communeCode
        }

        public let type: String
        public let conditions: [Field: Set<String>]
        public let adapter: String
        public let line: Int
    }

    public let adapters: [String: Adapter]
    public let rules: [Rule]
    /// Key id → base64 Ed25519 public key of the operators' console, which signs the dead letters
    /// an operator replays after an edit.
    public let operatorKeys: [String: String]
    /// What the console may sign and send itself, under an officer's name: a fee paid at the counter.
    public let operatorPublishes: Set<String>
    static let operatorsMayPublish: Set<String> = ["payment.fee.paid.v2"]
    /// Key id → base64 Ed25519 public key of the core (its configuration's `signingKey`), for
    /// those who check what the core signs: `govbus audit verify --checkpoint`, adapters.
    public let coreKeys: [String: String]

    /// Reads and checks a routes file against the known message types.
    public init(contentsOf url: URL, knownTypes: Set<String>) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.load(url), knownTypes: knownTypes)
    }

    public init(_ text: String, file: String, knownTypes: Set<String>) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file), knownTypes: knownTypes)
    }

    private init(root: YAMLValue, knownTypes: Set<String>) throws(ConfigurationError) {
        let top = try root.mapping(allowed: ["adapters", "rules", "operators", "core"], what: "the routes file")
        var adapters: [String: Adapter] = [:]
        var keyOwners: [String: String] = [:]
        for (name, value) in try top.required("adapters", in: "the routes file", at: root).mapping(what: "adapters") {
            guard name.range(of: "^[a-z][a-z0-9-]{1,31}$", options: .regularExpression) != nil else {
                throw value.error("adapter name '\(name)' must be 2 to 32 lower-case letters, digits or dashes")
            }
            let adapter = try Self.adapter(name, value, knownTypes: knownTypes)
            // A signature names its key by id: an id held by two adapters would let one sign as the other.
            for keyID in adapter.keys.keys.sorted() {
                if let owner = keyOwners[keyID] {
                    throw value.error("key id '\(keyID)' of adapter '\(name)' is also a key id of '\(owner)': key ids must be unique")
                }
                keyOwners[keyID] = name
            }
            adapters[name] = adapter
        }
        var rules: [Rule] = []
        for value in try top.value("rules")?.sequence(what: "rules") ?? [] {
            rules.append(try Self.rule(value, adapters: adapters, knownTypes: knownTypes))
        }
        var operatorKeys: [String: String] = [:]
        var operatorPublishes: Set<String> = []
        if let operators = top.value("operators") {
            let members = try operators.mapping(allowed: ["keys", "publishes"], what: "operators")
            operatorKeys = try Self.keys(
                of: "the operators", try members.required("keys", in: "operators", at: operators))
            for item in try members.value("publishes")?.sequence(what: "'publishes' of the operators") ?? [] {
                let type = try item.string(what: "a message type")
                guard Self.operatorsMayPublish.contains(type), knownTypes.contains(type) else {
                    throw item.error(
                        "the operators' console publishes only \(Self.operatorsMayPublish.sorted().joined(separator: ", ")), not '\(type)'")
                }
                operatorPublishes.insert(type)
            }
            for keyID in operatorKeys.keys.sorted() {
                if let owner = keyOwners[keyID] {
                    throw operators.error("key id '\(keyID)' of the operators is also a key id of '\(owner)': key ids must be unique")
                }
            }
        }
        var coreKeys: [String: String] = [:]
        if let core = top.value("core") {
            let members = try core.mapping(allowed: ["keys"], what: "core")
            coreKeys = try Self.keys(of: "the core", try members.required("keys", in: "core", at: core))
            for keyID in coreKeys.keys.sorted() {
                if let owner = keyOwners[keyID] ?? (operatorKeys[keyID] != nil ? "the operators" : nil) {
                    throw core.error("key id '\(keyID)' of the core is also a key id of '\(owner)': key ids must be unique")
                }
            }
        }
        self.adapters = adapters
        self.rules = rules
        self.operatorKeys = operatorKeys
        self.operatorPublishes = operatorPublishes
        self.coreKeys = coreKeys
    }

    private static func keys(of owner: String, _ value: YAMLValue) throws(ConfigurationError) -> [String: String] {
        var keys: [String: String] = [:]
        for (keyID, key) in try value.mapping(what: "the keys of \(owner)") {
            let encoded = try key.string(what: "key '\(keyID)'")
            guard let raw = Data(base64Encoded: encoded), raw.count == 32 else {
                throw key.error("key '\(keyID)' of \(owner) must be a 32-byte Ed25519 public key in base64")
            }
            keys[keyID] = encoded
        }
        return keys
    }

    private static func adapter(_ name: String, _ value: YAMLValue, knownTypes: Set<String>) throws(ConfigurationError) -> Adapter {
        let members = try value.mapping(allowed: ["keys", "publishes", "receives", "partitions"], what: "adapter '\(name)'")
        let keys = try Self.keys(of: "adapter '\(name)'", try members.required("keys", in: "adapter '\(name)'", at: value))
        func types(_ key: String) throws(ConfigurationError) -> Set<String> {
            guard let list = members.value(key) else { return [] }
            var result: Set<String> = []
            for item in try list.sequence(what: "'\(key)' of '\(name)'") {
                let type = try item.string(what: "a message type")
                guard knownTypes.contains(type) else {
                    throw item.error("adapter '\(name)' \(key) '\(type)', which is not a message type of Schemas/")
                }
                result.insert(type)
            }
            return result
        }
        var adapter = Adapter(name: name, keys: keys, publishes: try types("publishes"), receives: try types("receives"))
        if let value = members.value("partitions") {
            guard let count = Int(try value.string(what: "partitions")), (1...64).contains(count) else {
                throw value.error("partitions of '\(name)' must be a number from 1 to 64")
            }
            adapter.inboxPartitions = count
        }
        return adapter
    }

    private static func rule(
        _ value: YAMLValue, adapters: [String: Adapter], knownTypes: Set<String>
    ) throws(ConfigurationError) -> Rule {
        let members = try value.mapping(allowed: ["type", "when", "to"], what: "a rule")
        let typeValue = try members.required("type", in: "a rule", at: value)
        let type = try typeValue.string(what: "the type of a rule")
        guard knownTypes.contains(type) else { throw typeValue.error("rule for unknown message type '\(type)'") }
        let targetValue = try members.required("to", in: "a rule", at: value)
        let target = try targetValue.string(what: "the adapter of a rule")
        guard let adapter = adapters[target] else { throw targetValue.error("rule sends to unknown adapter '\(target)'") }
        guard adapter.receives.contains(type) else {
            throw targetValue.error("rule sends \(type) to '\(target)', which does not receive that type")
        }
        var conditions: [Rule.Field: Set<String>] = [:]
        if let when = members.value("when") {
            for (field, condition) in try when.mapping(allowed: Set(Rule.Field.allCases.map(\.rawValue)), what: "'when'") {
                let values: [String]
                if condition.isSequence {
                    values = try condition.strings(what: field)
                } else {
                    values = [try condition.string(what: field)]
                }
                conditions[Rule.Field(rawValue: field)!] = Set(values)
            }
        }
        return Rule(type: type, conditions: conditions, adapter: target, line: value.line)
    }

    /// The adapters that receive a message of `type` about a dossier with these attributes: the
    /// adapter of the first matching rule for that type, else every adapter that receives it.
    public func receivers(of type: String, attributes: [Rule.Field: String]) -> [String] {
        let rulesForType = rules.filter { $0.type == type }
        if let rule = rulesForType.first(where: { rule in
            rule.conditions.allSatisfy { field, accepted in attributes[field].map(accepted.contains) ?? false }
        }) {
            return [rule.adapter]
        }
        // Rules that do not match route nowhere by themselves; without any rule, every receiver gets it.
        guard rulesForType.isEmpty else { return [] }
        return adapters.values.filter { $0.receives.contains(type) }.map(\.name).sorted()
    }

    /// Whether `adapter` may publish `type`.
    public func allows(_ adapter: String, toPublish type: String) -> Bool {
        adapters[adapter]?.publishes.contains(type) ?? false
    }
}
