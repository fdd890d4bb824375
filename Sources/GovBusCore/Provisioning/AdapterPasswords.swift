public import Foundation

/// A YAML file of adapters' broker passwords (`portal: secret`): kept out of the repository.
public struct AdapterPasswords: Sendable {
    public let passwords: [String: String]

    public init(contentsOf url: URL) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: url.path, line: 1, message: "cannot read the file: \(error.localizedDescription)")
        }
        var passwords: [String: String] = [:]
        for (adapter, value) in try YAMLValue.parse(text, file: url.path).mapping(what: "the passwords") {
            passwords[adapter] = try value.string(what: "the password of '\(adapter)'")
        }
        self.passwords = passwords
    }
}
