import GovBusContracts

/// What changes between two versions of the routes and procedures: adapters, what each may
/// publish and receive, keys, routing rules, procedures. One line a change, for an operator to
/// read before applying a version (`govbus config diff`) and for the audit log after.
public struct ConfigurationDiff: Sendable, Hashable {
    public private(set) var changes: [String] = []

    public var isEmpty: Bool { changes.isEmpty }

    public init(routes old: RoutesFile, _ new: RoutesFile) {
        for name in Set(new.adapters.keys).subtracting(old.adapters.keys).sorted() {
            changes.append("+ adapter \(name)")
        }
        for name in Set(old.adapters.keys).subtracting(new.adapters.keys).sorted() {
            changes.append("- adapter \(name)")
        }
        for name in Set(old.adapters.keys).intersection(new.adapters.keys).sorted() {
            let (before, after) = (old.adapters[name]!, new.adapters[name]!)
            compare(before.publishes, after.publishes, "\(name) publishes")
            compare(before.receives, after.receives, "\(name) receives")
            if before.inboxPartitions != after.inboxPartitions {
                changes.append("~ \(name) inbox partitions \(before.inboxPartitions) → \(after.inboxPartitions)")
            }
        }
        for name in Set(old.adapters.keys).union(new.adapters.keys).sorted() {
            compare(keys: old.adapters[name]?.keys ?? [:], new.adapters[name]?.keys ?? [:], of: name)
        }
        compare(keys: old.operatorKeys, new.operatorKeys, of: "operators")
        for type in new.operatorPublishes.subtracting(old.operatorPublishes).sorted() { changes.append("+ operators publishes \(type)") }
        for type in old.operatorPublishes.subtracting(new.operatorPublishes).sorted() { changes.append("- operators publishes \(type)") }
        compare(keys: old.coreKeys, new.coreKeys, of: "core")
        // A rule is what it matches and where it sends, wherever it sits in the file.
        let (oldRules, newRules) = (Set(old.rules.map(Self.describe)), Set(new.rules.map(Self.describe)))
        for rule in newRules.subtracting(oldRules).sorted() { changes.append("+ rule \(rule)") }
        for rule in oldRules.subtracting(newRules).sorted() { changes.append("- rule \(rule)") }
    }

    public init(communes old: CommuneChanges, _ new: CommuneChanges) {
        func describe(_ change: CommuneChanges.Change) -> String {
            "commune \(change.from.joined(separator: ", ")) → \(change.into) (\(change.name)) from \(RFC3339.string(from: change.effective))"
        }
        let (before, after) = (Set(old.changes.map(describe)), Set(new.changes.map(describe)))
        for change in after.subtracting(before).sorted() { changes.append("+ \(change)") }
        for change in before.subtracting(after).sorted() { changes.append("- \(change)") }
    }

    public init(procedures old: [String: ProcedureDefinition], _ new: [String: ProcedureDefinition]) {
        for code in Set(new.keys).subtracting(old.keys).sorted() { changes.append("+ procedure \(code)") }
        for code in Set(old.keys).subtracting(new.keys).sorted() { changes.append("- procedure \(code)") }
        for code in Set(old.keys).intersection(new.keys).sorted() where old[code] != new[code] {
            changes.append("~ procedure \(code)")
        }
    }

    public static func + (left: Self, right: Self) -> Self {
        var sum = left
        sum.changes += right.changes
        return sum
    }

    private mutating func compare(_ old: Set<String>, _ new: Set<String>, _ what: String) {
        for type in new.subtracting(old).sorted() { changes.append("+ \(what) \(type)") }
        for type in old.subtracting(new).sorted() { changes.append("- \(what) \(type)") }
    }

    private mutating func compare(keys old: [String: String], _ new: [String: String], of owner: String) {
        for id in Set(new.keys).subtracting(old.keys).sorted() { changes.append("+ key \(id) of \(owner)") }
        for id in Set(old.keys).subtracting(new.keys).sorted() { changes.append("- key \(id) of \(owner)") }
        for id in Set(old.keys).intersection(new.keys).sorted() where old[id] != new[id] {
            changes.append("~ key \(id) of \(owner): another public key under the same id")
        }
    }

    private static func describe(_ rule: RoutesFile.Rule) -> String {
        let conditions = rule.conditions.keys.sorted { $0.rawValue < $1.rawValue }.map { field in
            "\(field.rawValue) in [\(rule.conditions[field]!.sorted().joined(separator: ", "))]"
        }
        return "\(rule.type)\(conditions.isEmpty ? "" : " where " + conditions.joined(separator: " and ")) → \(rule.adapter)"
    }
}
