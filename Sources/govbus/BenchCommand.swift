import AMQP
import ArgumentParser
import Foundation
import GovBusBenchmarks

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the bus against raw rabbitmq-c on the same broker.",
        subcommands: [
            TransportBenchCommand.self, CoreBenchCommand.self, CoreCostBenchCommand.self, E2EBenchCommand.self,
            ValidatorBenchCommand.self,
        ])
}

struct TransportBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "One confirmed publisher and one acknowledging consumer, GovBus AMQP against raw rabbitmq-c.")

    @OptionGroup var broker: BrokerOptions

    @Option(help: "Messages per run.") var messages = 100_000
    @Option(help: "Body size in bytes.") var size = 1024
    @Option(help: "Unconfirmed messages at most.") var window = 256
    @Option(help: "Consumer prefetch.") var prefetch = 256
    @Option(help: "Queue types, comma-separated: classic, quorum.") var queueTypes = "classic,quorum"
    @Option(help: "Runs of each side per queue type, alternated; medians are reported.") var rounds = 3
    @Option(help: "The baseline's C source (default: Benchmarks/transport-baseline.c in the repository).")
    var baselineSource: String?
    @Flag(help: "Print one JSON object per queue type.") var json = false
    @Flag(help: "Run the Swift publisher and consumer on Swift's global executor instead of their connections' threads.")
    var globalExecutor = false

    func run() async throws {
        var kinds: [AMQPQueue.Kind] = []
        for name in queueTypes.split(separator: ",") {
            guard let kind = AMQPQueue.Kind(rawValue: String(name)), kind != .stream else {
                throw ValidationError("unknown queue type '\(name)': use classic or quorum")
            }
            kinds.append(kind)
        }
        let options = TransportBenchmark.Options(
            amqpURL: try broker.resolvedURL(), messages: messages, messageSize: size, window: window,
            prefetch: prefetch, queueKinds: kinds, baselineSource: baselineSource,
            onConnectionThreads: !globalExecutor, rounds: rounds)
        let results = try await TransportBenchmark.run(options) { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for result in results {
            if json {
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(
                    """
                    \(result.queueType) (median of \(result.rounds)): \(Int(result.throughputMessagesPerSecond)) msg/s, baseline \
                    \(Int(result.baselineMessagesPerSecond)) msg/s, ratio \(String(format: "%.2f", result.ratio)); \
                    latency p50 \(String(format: "%.1f", result.p50Milliseconds)) ms, p99 \
                    \(String(format: "%.1f", result.p99Milliseconds)) ms (baseline \
                    \(String(format: "%.1f", result.baselineP50Milliseconds)) / \
                    \(String(format: "%.1f", result.baselineP99Milliseconds)) ms)
                    """)
            }
        }
    }
}

struct ValidatorBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validator", abstract: "Time the JSON Schema validation of one message.")

    @Option(help: "The message type.") var type = "portal.dossier.submitted.v1"
    @Option(help: "The JSON document (default: the largest of the type's valid examples).") var document: String?
    @Option(help: "Validations per round (the best of 5 rounds is reported).") var iterations = 20_000
    @OptionGroup var schemaOptions: SchemaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let catalog = try schemaOptions.catalog()
        let result = try ValidatorBenchmark.run(
            schemas: catalog.folder, type: type, document: document.map { URL(fileURLWithPath: $0) },
            iterations: iterations)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(
                """
                \(result.type), \(result.documentBytes) bytes: \(String(format: "%.1f", result.microsecondsPerValidation)) µs \
                per validation (\(Int(result.validationsPerSecond))/s); catalogue compiled in \
                \(String(format: "%.1f", result.compileMilliseconds)) ms
                """)
        }
    }
}

struct CoreBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Messages through one govbus core with every check on, against a raw rabbitmq-c hop.",
        discussion: """
            Provisions a vhost of its own with a sender and a receiver adapter (through the management \
            API), starts `govbus core` on it, and sends 1 KB signed document requests through it and \
            through Benchmarks/core-hop-baseline.c (consume, publish with confirms, ack), alternately; \
            medians are reported. Then the core again at half its measured rate: p50_ms and p99_ms \
            are that run's, from the sender's publish to the receiver's delivery. Removes it all after.
            """)

    @OptionGroup var broker: BrokerOptions
    @Option(name: .customLong("management-url"), help: "http://user:password@host:15672 (default: $GOVBUS_MANAGEMENT_URL).")
    var managementURL: String?
    @Option(help: "Messages per run.") var messages = 20_000
    @Option(help: "Runs of each hop, alternated; medians are reported.") var rounds = 3
    @Option(help: "The sender's unconfirmed messages at most.") var window = 256
    @Option(help: "Prefetch of the hop and of the receiver.") var prefetch = 256
    @Option(help: "Cores that share the work (more than one: the core's queue in 8 partitions; pass --store).") var cores = 1
    @Option(help: "The cores' store: a postgres:// URL (default: SQLite files of the bench's own).") var store: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        if cores > 1, store == nil {
            throw ValidationError("several cores share one database: pass --store postgres://…")
        }
        guard let management = managementURL ?? ProcessInfo.processInfo.environment["GOVBUS_MANAGEMENT_URL"] else {
            throw ValidationError("no management API: pass --management-url or set GOVBUS_MANAGEMENT_URL")
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        var options = CoreBenchmark.Options(
            amqpURL: try broker.resolvedURL(), managementURL: management, messages: messages, prefetch: prefetch,
            window: window, rounds: rounds, govbusExecutable: executable)
        options.cores = cores
        options.store = store
        let result = try await CoreBenchmark.run(options) { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(
                """
                core (median of \(result.rounds) runs of \(result.messages), \(result.messageSize)-byte bodies): \
                \(Int(result.throughputMessagesPerSecond)) msg/s, raw rabbitmq-c hop \(Int(result.baselineMessagesPerSecond)) \
                msg/s, ratio \(String(format: "%.2f", result.ratio)); at \(Int(result.halfRateMessagesPerSecond)) msg/s: \
                p50 \(String(format: "%.1f", result.p50Milliseconds)) ms, p99 \(String(format: "%.1f", result.p99Milliseconds)) ms; \
                core peak RSS \(String(format: "%.0f", result.rssMegabytes)) MB
                """)
        }
    }
}

struct CoreCostBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core-cost",
        abstract: "Instructions per routed message in one govbus core, counted by valgrind's callgrind.",
        discussion: """
            Runs `govbus core` under callgrind on a vhost of its own (as `bench core` does), sends a \
            warm-up, zeroes the counters, sends the counted messages and dumps the profile once the \
            receiver has them all. Prints the instructions per message (every thread of the core), \
            those of one Ed25519 verification in the same profile, their ratio, and the inclusive \
            cost of each part of the work. Needs valgrind; takes a few minutes.
            """)

    @OptionGroup var broker: BrokerOptions
    @Option(name: .customLong("management-url"), help: "http://user:password@host:15672 (default: $GOVBUS_MANAGEMENT_URL).")
    var managementURL: String?
    @Option(help: "Messages counted.") var messages = 2_000
    @Option(help: "Messages sent first, not counted.") var warmUp = 300
    @Option(help: "Keep the callgrind profile in this file.") var profile: String?
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        guard let management = managementURL ?? ProcessInfo.processInfo.environment["GOVBUS_MANAGEMENT_URL"] else {
            throw ValidationError("no management API: pass --management-url or set GOVBUS_MANAGEMENT_URL")
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let core = CoreBenchmark.Options(
            amqpURL: try broker.resolvedURL(), managementURL: management, govbusExecutable: executable)
        let result = try await CoreCostBenchmark.run(
            CoreCostBenchmark.Options(core: core, messages: messages, warmUp: warmUp, profile: profile)
        ) { line in
            FileHandle.standardError.write(Data("bench: \(line)\n".utf8))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print(
            """
            core: \(Int(result.instructionsPerMessage)) instructions per routed message (\(result.messages) messages); \
            one Ed25519 verification: \(Int(result.signatureVerificationInstructions)); ratio \
            \(String(format: "%.2f", result.ratioToOneVerification))
            """)
        for part in result.breakdown {
            print(
                "  \(part.part): \(Int(part.instructionsPerMessage)) (\(String(format: "%.1f", part.share * 100))%)")
        }
    }
}
