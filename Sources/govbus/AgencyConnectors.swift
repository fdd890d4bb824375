import Foundation
import GovBusAdapterKit
import GovBusSandboxKit
import Logging
import ServiceLifecycle
// govbus new-connector adds its imports above this line.

/// The connectors made with `govbus new-connector`, beside the four built in: each its name, its
/// adapter and its sandbox. `govbus adapter`, `govbus sandbox` and `govbus up` take them all.
enum AgencyConnectors {
    struct Entry: Sendable {
        let name: String
        let connector: @Sendable (AdapterRuntime) throws -> any Connector
        let sandbox: @Sendable (_ host: String, _ port: Int, _ data: URL, SandboxFaults, Logger) async throws -> any Service
    }

    static let all: [Entry] = [
        // govbus new-connector adds its connectors above this line.
    ]

    static func named(_ name: String) -> Entry? {
        all.first { $0.name == name }
    }
}
