public import Foundation
public import GovBusConfiguration
import GovBusContracts

/// Communes merged or renamed by the administrative reorganisation, from a file the core reads
/// with its routes (and again on each reload):
///
/// ```yaml
/// changes:
///   - into: "90004"                       # the new commune's code
///     name: Phường Hợp Nhất               # its name, for people
///     from: ["90001", "90002", "90003"]   # the codes it replaces
///     effective: 2026-07-01T00:00:00+07:00
/// ```
///
/// From its effective time, a code replaced is routed as its new one: a dossier submitted under
/// it, or in flight, goes to the systems the routes name for the new commune from its next step.
/// A code replaced twice (merged, then merged again) follows both changes.
public struct CommuneChanges: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        public let into: String
        public let name: String
        public let from: [String]
        public let effective: Date
        public let line: Int
    }

    public let changes: [Change]

    public static let none = CommuneChanges(changes: [])

    init(changes: [Change]) {
        self.changes = changes.sorted { $0.effective < $1.effective }
    }

    public init(contentsOf url: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.load(url))
    }

    public init(_ text: String, file: String) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file))
    }

    private init(root: YAMLValue) throws(ConfigurationError) {
        let top = try root.mapping(allowed: ["changes"], what: "the communes file")
        var changes: [Change] = []
        var replaced: [String: Int] = [:]
        for entry in try top.value("changes")?.sequence(what: "changes") ?? [] {
            let fields = try entry.mapping(allowed: ["into", "name", "from", "effective"], what: "a commune change")
            let into = try Self.code(try fields.required("into", in: "a commune change", at: entry))
            let fromValue = try fields.required("from", in: "the change into \(into)", at: entry)
            var from: [String] = []
            for item in try fromValue.sequence(what: "from") { from.append(try Self.code(item)) }
            guard !from.isEmpty else { throw fromValue.error("the change into \(into) replaces no commune") }
            guard !from.contains(into) else { throw fromValue.error("commune \(into) cannot replace itself") }
            for code in from {
                if let line = replaced[code] {
                    throw fromValue.error("commune \(code) is replaced already, by the change on line \(line)")
                }
                replaced[code] = entry.line
            }
            let effectiveValue = try fields.required("effective", in: "the change into \(into)", at: entry)
            guard let effective = RFC3339.date(from: try effectiveValue.string(what: "effective")) else {
                throw effectiveValue.error("effective must be a time with its offset, such as 2026-07-01T00:00:00+07:00")
            }
            let name = try fields.value("name")?.string(what: "name") ?? into
            changes.append(Change(into: into, name: name, from: from, effective: effective, line: entry.line))
        }
        self.init(changes: changes)
        // A chain that comes back to where it began would route nowhere.
        for change in changes {
            for code in change.from where current(code, at: .distantFuture, limit: changes.count + 1) == nil {
                throw root.error("the changes of commune \(code) go round in a circle")
            }
        }
    }

    private static func code(_ value: YAMLValue) throws(ConfigurationError) -> String {
        let code = try value.string(what: "a commune code")
        guard code.count == 5, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
            throw value.error("a commune code is 5 digits, as in the national list of administrative units; '\(code)' is not")
        }
        return code
    }

    /// The code `code` is routed as at `date`: itself, or the commune that replaced it then.
    public func current(_ code: String, at date: Date) -> String {
        current(code, at: date, limit: changes.count + 1) ?? code
    }

    private func current(_ code: String, at date: Date, limit: Int) -> String? {
        var code = code
        for _ in 0..<limit {
            guard let change = changes.first(where: { $0.from.contains(code) && $0.effective <= date }) else { return code }
            code = change.into
        }
        return nil
    }

    /// The changes that made `code` (or the commune it had become) another commune after `start`
    /// and by `end`, in order.
    public func changes(of code: String, between start: Date, and end: Date) -> [Change] {
        var found: [Change] = []
        var code = code
        for _ in 0...changes.count {
            guard let change = changes.first(where: { $0.from.contains(code) && $0.effective <= end }) else { break }
            if change.effective > start { found.append(change) }
            code = change.into
        }
        return found
    }

    /// The codes that became `code`, directly or through earlier changes (by `date`).
    public func formerCodes(of code: String, at date: Date) -> [String] {
        Set(changes.flatMap(\.from)).filter { $0 != code && current($0, at: date) == code }.sorted()
    }
}
