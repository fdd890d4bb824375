import AMQP
import ArgumentParser
import Foundation
import GovBusConsole
import GovBusCore
import Logging
import ServiceLifecycle

struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "The operations console: queues, adapters, dossiers, dead letters, audit.",
        subcommands: [ServeConsoleCommand.self, HashPasswordCommand.self], defaultSubcommand: ServeConsoleCommand.self)
}

struct ServeConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the console (the default).",
        discussion: "Stops with exit status 2, naming the file and line, when the configuration is wrong.")

    @Option(help: "The console's configuration file.") var config = "config/console.yaml"
    @Option(help: "The adapters to show, comma-separated.") var adapters = "portal,registry,payment,document"

    func run() async throws {
        let logger = Logger(label: "govbus.console")
        let configuration: ConsoleConfiguration
        let amqp: AMQPConfiguration
        do {
            configuration = try ConsoleConfiguration(contentsOf: URL(fileURLWithPath: config))
            // Outside sandbox mode (GOVBUS_SANDBOX_KEYS=allow, set by govbus up), no public sandbox key signs.
            try SandboxKeyCheck.check(
                signingKey: configuration.signingKey, file: URL(fileURLWithPath: config),
                environment: ProcessInfo.processInfo.environment)
            amqp = try AMQPConfiguration(url: configuration.amqpURL)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        var connectionConfiguration = amqp
        connectionConfiguration.connectionName = "govbus console"
        let connection = try await AMQPConnection.connect(connectionConfiguration, logger: logger)
        let server: ConsoleServer
        do {
            server = try ConsoleServer(
                configuration: configuration, adapters: adapters.split(separator: ",").map(String.init), vhost: amqp.vhost,
                // Through govbus.ingress by type: it reaches the core's queue, or the dossier's partition.
                replay: { message, _ in
                    try await connection.publish(
                        message, exchange: CoreTopology.ingressExchange, routingKey: message.properties.type ?? "", mandatory: true)
                },
                logger: logger)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: ConsoleService(server: server, connection: connection, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct ConsoleService: Service {
    let server: ConsoleServer
    let connection: AMQPConnection
    let logger: Logger

    func run() async throws {
        let app = server.application(logger: logger)
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await app.run() }
                    group.addTask { try await server.archiveDeadLetters(from: connection, logger: logger) }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {}
        await connection.close()
    }
}

struct HashPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-password", abstract: "Read a password on standard input; print its hash for passwordHash.")

    func run() throws {
        guard let password = readLine(strippingNewline: true), !password.isEmpty else {
            throw ValidationError("no password on standard input")
        }
        print(try ConsoleServer.hashPassword(password))
    }
}
