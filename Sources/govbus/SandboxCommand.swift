import ArgumentParser
import DocumentSandbox
import Foundation
import GovBusConfiguration
import GovBusSandboxKit
import Hummingbird
import Logging
import PaymentSandbox
import PortalSandbox
import RegistrySandbox
import ServiceLifecycle

struct SandboxCommand: AsyncParsableCommand {
    func paymentPages() throws -> [String: String] {
        guard let paymentPage else { return [:] }
        let parts = paymentPage.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("--payment-page is PUBLIC=LOCAL") }
        return [parts[0]: parts[1]]
    }

    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run a sandbox of an external system: portal, registry, payment or document.",
        discussion: """
            A real HTTP server that behaves like that system, for the demo, the tests and an \
            integrator's first day. Every sandbox can add latency, fail a share of requests with 503 \
            or let a share hang (--latency-ms, --failure-rate, --timeout-rate, or PUT /_sandbox/faults).
            """)

    @Argument(help: "portal, registry, payment, document, or a connector made with govbus new-connector.") var name: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port.") var port: Int
    @Option(help: "Its data folder.") var data: String
    @Option(help: "Milliseconds added to every request.") var latencyMs = 0
    @Option(help: "0 to 1: the share of requests answered 503.") var failureRate = 0.0
    @Option(help: "0 to 1: the share of requests that hang.") var timeoutRate = 0.0
    @Option(help: "portal: where the adapter takes dossiers.") var adapterUrl = "http://127.0.0.1:18081/portal/dossiers"
    // Secrets come from a file or the environment, never the command line (which anyone on the
    // machine can read); without either, the sandbox's public defaults, which govbus up uses too.
    @Option(help: "portal: a file holding the secret shared with the adapter (default: $GOVBUS_PORTAL_HMAC_SECRET, else the sandbox's).")
    var hmacSecretFile: String?
    @Option(help: "portal: PUBLIC=LOCAL, where the citizen's browser finds a payment page (https://gateway=http://127.0.0.1:port).")
    var paymentPage: String?
    @Option(help: "registry: how many citizens.") var population = 100_000
    @Option(help: "payment: the merchant's IPN URL.") var ipnUrl = "http://127.0.0.1:18083/vnpay/ipn"
    @Option(help: "payment: the merchant's terminal code.") var tmnCode = "GOVBUS01"
    @Option(help: "payment: a file holding the merchant's hash secret (default: $GOVBUS_PAYMENT_HASH_SECRET, else the sandbox's).")
    var hashSecretFile: String?
    @Option(help: "payment: milliseconds from the citizen's click to the payment.") var payDelayMs = 200
    @Option(help: "document: the https URL the documents are served at (behind a proxy).") var publicUrl: String?
    @Option(
        help: """
            document: a file holding the base64 seed of its Ed25519 signing key (default: $GOVBUS_DOCUMENT_SIGNING_SEED, \
            else one made once and kept in its data folder).
            """)
    var signingSeedFile: String?

    /// The sandboxes' public defaults: what `govbus up` gives the adapters too.
    static let defaultHMACSecret = "govbus-sandbox-portal-hmac"
    static let defaultHashSecret = "govbus-sandbox-vnpay-secret"

    func run() async throws {
        let logger = Logger(label: "govbus.sandbox.\(name)")
        guard (0...1).contains(failureRate), (0...1).contains(timeoutRate), latencyMs >= 0 else {
            throw ValidationError("--failure-rate and --timeout-rate are 0 to 1, --latency-ms at least 0")
        }
        let faults = SandboxFaults(
            .init(latencyMilliseconds: latencyMs, failureRate: failureRate, timeoutRate: timeoutRate))
        let folder = URL(fileURLWithPath: data)
        let service: any Service
        switch name {
        case "portal":
            service = try await PortalSandbox.application(
                options: .init(
                    host: host, port: port, dataDirectory: folder, adapterURL: adapterUrl,
                    hmacSecret: try Secret.read(file: hmacSecretFile, variable: "GOVBUS_PORTAL_HMAC_SECRET", option: "--hmac-secret-file")
                        ?? Self.defaultHMACSecret,
                    paymentPages: try paymentPages()),
                faults: faults, logger: logger)
        case "registry":
            service = try await RegistrySandbox.application(
                options: .init(host: host, port: port, dataDirectory: folder, populationSize: population), faults: faults,
                logger: logger)
        case "payment":
            service = try await PaymentSandbox.application(
                options: .init(
                    host: host, port: port, dataDirectory: folder, tmnCode: tmnCode,
                    hashSecret: try Secret.read(file: hashSecretFile, variable: "GOVBUS_PAYMENT_HASH_SECRET", option: "--hash-secret-file")
                        ?? Self.defaultHashSecret,
                    ipnURL: ipnUrl,
                    payDelay: .milliseconds(payDelayMs)),
                faults: faults, logger: logger)
        case "document":
            service = try await DocumentSandbox.application(
                options: .init(
                    host: host, port: port, dataDirectory: folder, publicURL: publicUrl ?? "https://vanban.sandbox.govbus.local",
                    signingSeed: try Secret.read(
                        file: signingSeedFile, variable: "GOVBUS_DOCUMENT_SIGNING_SEED", option: "--signing-seed-file")),
                faults: faults, logger: logger)
        default:
            guard let agency = AgencyConnectors.named(name) else {
                throw ValidationError("no sandbox '\(name)': \(LocalStack.connectors.joined(separator: ", "))")
            }
            service = try await agency.sandbox(host, port, folder, faults, logger)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
