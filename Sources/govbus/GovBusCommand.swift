import ArgumentParser
import Foundation
import Logging

/// The entry point: logs go to standard error, so that what a command prints (tables, JSON)
/// stays clean for scripts.
@main
enum GovBusMain {
    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        await GovBusCommand.main()
    }
}

struct GovBusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govbus",
        abstract: "GovBus: the message bus between government subsystems.",
        subcommands: [
            UpCommand.self, DemoCommand.self, CoreCommand.self, AdapterCommand.self, SandboxCommand.self, ConsoleCommand.self,
            StatusCommand.self, DeadLettersCommand.self, TraceCommand.self, ProvisionCommand.self,
            BenchCommand.self, ValidateCommand.self, SchemasCommand.self, AuditCommand.self,
        ])
}

/// Where every command finds the broker: --amqp-url, else GOVBUS_AMQP_URL.
struct BrokerOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "The broker's URL (default: $GOVBUS_AMQP_URL).")
    var amqpURL: String?

    func resolvedURL() throws -> String {
        if let amqpURL { return amqpURL }
        if let fromEnvironment = ProcessInfo.processInfo.environment["GOVBUS_AMQP_URL"] { return fromEnvironment }
        throw ValidationError("no broker: pass --amqp-url or set GOVBUS_AMQP_URL")
    }
}
