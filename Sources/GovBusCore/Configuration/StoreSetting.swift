package import Foundation
package import GovBusConfiguration
package import GovBusStore

extension StoreLocation {
    /// A configuration file's `store:`, which GOVBUS_STORE overrides; a bad one names its source.
    package static func configured(
        environment: [String: String], value: YAMLValue?, root: YAMLValue, folder: URL, default fallback: StoreLocation
    ) throws(ConfigurationError) -> StoreLocation {
        if let text = environment["GOVBUS_STORE"] {
            do {
                return try StoreLocation(text, relativeTo: folder)
            } catch {
                throw root.error("GOVBUS_STORE (the environment): \(error)")
            }
        }
        guard let value else { return fallback }
        let text = try value.string(what: "store")
        do {
            return try StoreLocation(text, relativeTo: folder)
        } catch {
            throw value.error("store: \(error)")
        }
    }
}
