import ArgumentParser
import Foundation
import GovBusTelemetry
import GovBusCore
import Logging
import ServiceLifecycle

struct CoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Run the routing core: check, record and route every message, and drive every dossier.",
        discussion: """
            Reads the core's configuration (which names the routes, procedures and schemas) and stops \
            with exit status 2, naming the file and line, when one of them is wrong. SIGTERM or \
            SIGINT stops it gracefully: no new messages, the one in hand finished, exit 0.
            """)

    @Option(help: "The core's configuration file.") var config = "config/core.yaml"

    func run() async throws {
        let logger = Logger(label: "govbus.core")
        let service: CoreService
        do {
            // The environment says whether this is sandbox mode (GOVBUS_SANDBOX_KEYS=allow, set by
            // govbus up), the one place the sandbox's public keys may sign: the core's own key here,
            // routes.yaml's keys in CoreService.
            let environment = ProcessInfo.processInfo.environment
            let file = URL(fileURLWithPath: config)
            let configuration = try CoreConfiguration(contentsOf: file, environment: environment)
            try SandboxKeyCheck.check(signingKey: configuration.signingKey, owner: "the core", file: file, environment: environment)
            service = try CoreService(configuration: configuration, logger: logger, environment: environment)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        // The trace exporter first: a group stops its services last to first, so it sends the last spans.
        let traces = try BusTracing.bootstrap(service: "govbus-core")
        let group = ServiceGroup(
            configuration: .init(
                services: (traces.map { [.init(service: $0)] } ?? []) + [.init(service: service)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
