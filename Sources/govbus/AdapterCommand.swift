import ArgumentParser
import DocumentAdapter
import Foundation
import GovBusTelemetry
import GovBusAdapterKit
import Logging
import PaymentAdapter
import PortalAdapter
import RegistryAdapter
import ServiceLifecycle

struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter",
        abstract: "Run an adapter: portal, registry, payment, document, or one made with govbus new-connector.",
        discussion: """
            Reads the adapter's configuration (its broker user, signing key, HTTP side, external \
            system) and stops with exit status 2, naming the file and line, when it is wrong. \
            SIGTERM or SIGINT stops it gracefully.
            """)

    @Argument(help: "portal, registry, payment, document, or a connector made with govbus new-connector.") var name: String
    @Option(help: "The adapter's configuration file.") var config: String

    func run() async throws {
        let logger = Logger(label: "govbus.\(name)")
        let runtime: AdapterRuntime
        let service: any Service
        do {
            runtime = try AdapterRuntime(
                configuration: try AdapterConfiguration(contentsOf: URL(fileURLWithPath: config)), logger: logger)
            switch name {
            case "portal": service = AdapterService(runtime: runtime, connector: try PortalConnector(runtime: runtime))
            case "registry": service = AdapterService(runtime: runtime, connector: try RegistryConnector(runtime: runtime))
            case "payment": service = AdapterService(runtime: runtime, connector: try PaymentConnector(runtime: runtime))
            case "document": service = AdapterService(runtime: runtime, connector: try DocumentConnector(runtime: runtime))
            default:
                guard let agency = AgencyConnectors.named(name) else {
                    throw ValidationError("no adapter '\(name)': \(LocalStack.connectors.joined(separator: ", "))")
                }
                service = AdapterService(runtime: runtime, connector: try agency.connector(runtime))
            }
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        // The trace exporter first: a group stops its services last to first, so it sends the last spans.
        let traces = try BusTracing.bootstrap(service: "govbus-\(name)")
        let group = ServiceGroup(
            configuration: .init(
                services: (traces.map { [.init(service: $0)] } ?? []) + [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// An adapter as a service: cancelled on SIGTERM, it stops taking work and closes.
struct AdapterService: Service {
    let runtime: AdapterRuntime
    let connector: any Connector

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await runtime.run(connector)
        }
    }
}
