public import Foundation
public import GovBusConfiguration

/// A YAML file of adapters' broker passwords (`portal: secret`): kept out of the repository.
public struct AdapterPasswords: Sendable {
    public let passwords: [String: String]

    public init(contentsOf url: URL) throws(ConfigurationError) {
        var passwords: [String: String] = [:]
        for (adapter, value) in try YAMLValue.load(url).mapping(what: "the passwords") {
            passwords[adapter] = try value.string(what: "the password of '\(adapter)'")
        }
        self.passwords = passwords
    }
}
