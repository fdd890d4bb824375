import ArgumentParser
import Foundation
import GovBusConfiguration
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The entry point: logs go to standard error, so that what a command prints (tables, JSON)
/// stays clean for scripts.
@main
enum GovBusMain {
    /// Runs the command on a task of Swift's pool while the main thread serves the main queue
    /// (`dispatchMain`), as an async main does; or, with GOVBUS_MAIN_THREAD_WAITS=1, while it
    /// waits on a semaphore: valgrind 3.19 dies when it signals a thread parked in dispatch's
    /// signal wait, so `govbus bench core-cost` runs the core under callgrind that way.
    static func main() {
        // Everything govbus creates is its owner's only, from the start: the SQLite files that hold
        // personal data (the core's stores and audit log, the adapters' outboxes, inboxes and
        // orders, the console's archive), the logs, the work folder of govbus up. SQLite and
        // Foundation create files with 0644 and folders with 0755 less the umask, and offer no
        // mode of their own: a umask of 077 makes those 0600 and 0700. (Secret files are opened
        // 0600 anyway, through SecretFile.) The children govbus up starts inherit it.
        umask(0o077)
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let mainThreadWaits = ProcessInfo.processInfo.environment["GOVBUS_MAIN_THREAD_WAITS"] == "1"
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            // The command exits by itself on an error; here it has succeeded.
            await GovBusCommand.main()
            if mainThreadWaits { done.signal() } else { exit(0) }
        }
        if mainThreadWaits {
            done.wait()
        } else {
            dispatchMain()
        }
    }
}

struct GovBusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "govbus",
        abstract: "GovBus: the message bus between government subsystems.",
        subcommands: [
            UpCommand.self, InitCommand.self, DemoCommand.self, CoreCommand.self, AdapterCommand.self, SandboxCommand.self, ConsoleCommand.self,
            StatusCommand.self, DeadLettersCommand.self, TraceCommand.self, ProvisionCommand.self,
            BenchCommand.self, ValidateCommand.self, SchemasCommand.self, AuditCommand.self, KeysCommand.self, NewConnectorCommand.self,
            ConfigCommand.self,
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
