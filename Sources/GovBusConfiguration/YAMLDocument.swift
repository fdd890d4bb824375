package import Foundation
import Yams

/// A node of a YAML configuration file that knows its line, so that every error names it.
/// `package`: the adapters' configuration files are read the same way.
package struct YAMLValue {
    let node: Node
    package let file: String

    package var line: Int { node.mark?.line ?? 1 }

    /// Whether it is a list (`[a, b]` or `- a` lines), for settings that take one value or several.
    package var isSequence: Bool {
        if case .sequence = node { return true }
        return false
    }

    package func error(_ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, message: message)
    }

    /// Reads and parses a configuration file.
    package static func load(_ url: URL) throws(ConfigurationError) -> YAMLValue {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: url.path, line: 1, message: "cannot read the file: \(error.localizedDescription)")
        }
        return try parse(text, file: url.path)
    }

    /// Parses a whole file; a syntax error names its line too.
    package static func parse(_ text: String, file: String) throws(ConfigurationError) -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigurationError(file: file, line: 1, message: "the file is empty")
            }
            return YAMLValue(node: node, file: file)
        } catch let error as ConfigurationError {
            throw error
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: Self.line(of: error), message: "not valid YAML: \(error)")
        } catch {
            throw ConfigurationError(file: file, line: 1, message: "not valid YAML: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return 1
        }
    }

    /// The members of a mapping, in file order; `allowed` names the keys it may have.
    package func mapping(allowed: Set<String>? = nil, what: String) throws(ConfigurationError) -> [(key: String, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("\(what) must be a mapping") }
        var members: [(String, YAMLValue)] = []
        var seen: Set<String> = []
        for (keyNode, valueNode) in mapping {
            let key = YAMLValue(node: keyNode, file: file)
            guard case .scalar(let scalar) = keyNode else { throw key.error("a key of \(what) must be a string") }
            if let allowed, !allowed.contains(scalar.string) {
                throw key.error("unknown key '\(scalar.string)' in \(what); expected one of \(allowed.sorted().joined(separator: ", "))")
            }
            guard seen.insert(scalar.string).inserted else { throw key.error("'\(scalar.string)' appears twice in \(what)") }
            members.append((scalar.string, YAMLValue(node: valueNode, file: file)))
        }
        return members
    }

    package func sequence(what: String) throws(ConfigurationError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw error("\(what) must be a list") }
        return sequence.map { YAMLValue(node: $0, file: file) }
    }

    package func string(what: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error("\(what) must be a text") }
        return scalar.string
    }

    package func integer(what: String) throws(ConfigurationError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            throw error("\(what) must be a whole number")
        }
        return value
    }

    package func strings(what: String) throws(ConfigurationError) -> [String] {
        var values: [String] = []
        for item in try sequence(what: what) { values.append(try item.string(what: "an item of \(what)")) }
        return values
    }

    /// A duration written `30s`, `10m`, `2h` or `3d`.
    package func duration(what: String) throws(ConfigurationError) -> Duration {
        let text = try string(what: what)
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0 else {
            throw error("\(what) must be a duration such as 30s, 10m, 2h or 3d, not '\(text)'")
        }
        switch unit {
        case "s": return .seconds(amount)
        case "m": return .seconds(amount * 60)
        case "h": return .seconds(amount * 3600)
        case "d": return .seconds(amount * 86400)
        default: throw error("\(what) must be a duration such as 30s, 10m, 2h or 3d, not '\(text)'")
        }
    }
}

/// Looks a key up in the members of a mapping.
extension Array where Element == (key: String, value: YAMLValue) {
    package func value(_ key: String) -> YAMLValue? {
        first { $0.key == key }?.value
    }

    package func required(_ key: String, in what: String, at owner: YAMLValue) throws(ConfigurationError) -> YAMLValue {
        guard let value = value(key) else { throw owner.error("\(what) has no '\(key)'") }
        return value
    }
}
