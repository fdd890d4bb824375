import AMQP
import GovBusProcesses
import Crypto
import Foundation
import GovBus
import GovBusCore
import Logging

/// `govbus bench core`: messages per second through one `govbus core` process with every check on
/// (signature, schema, dedup, audit), 1 KB persistent messages with confirms, against a raw
/// rabbitmq-c hop (Benchmarks/core-hop-baseline.c: consume, publish with confirms, ack) in the
/// same run on the same broker. The same publisher and consumer stand before and after either hop.
/// Then the core again at half its measured rate, for the latency a lightly loaded bus gives.
///
/// The benchmark provisions a vhost of its own with a sender and a receiver adapter through the
/// management API, starts the core as a child process, and removes it all at the end.
public enum CoreBenchmark {
    public struct Options: Sendable {
        public var amqpURL: String
        public var managementURL: String
        public var messages: Int
        public var prefetch: Int
        public var window: Int
        public var rounds: Int
        /// The `govbus` executable that runs the core.
        public var govbusExecutable: String
        /// How many cores share the work (more than one: the core's queue in partitions, and `store`).
        public var cores = 1
        /// The cores' store (core.yaml's `store:`); nil: SQLite files of the bench's own.
        public var store: String?

        public init(
            amqpURL: String, managementURL: String, messages: Int = 20_000, prefetch: Int = 256, window: Int = 256,
            rounds: Int = 3, govbusExecutable: String
        ) {
            self.amqpURL = amqpURL
            self.managementURL = managementURL
            self.messages = messages
            self.prefetch = prefetch
            self.window = window
            self.rounds = max(1, rounds)
            self.govbusExecutable = govbusExecutable
        }
    }

    public struct Result: Codable, Sendable {
        public let messages: Int
        public let rounds: Int
        public let messageSize: Int
        public let throughputMessagesPerSecond: Double
        public let baselineMessagesPerSecond: Double
        public let ratio: Double
        /// Latency at half the measured rate, from the sender's publish to the receiver's delivery.
        public let p50Milliseconds: Double
        public let p99Milliseconds: Double
        public let halfRateMessagesPerSecond: Double
        /// Latency at full speed, where it is mostly time spent queued.
        public let fullRateP50Milliseconds: Double
        public let fullRateP99Milliseconds: Double
        public let baselineP50Milliseconds: Double
        public let baselineP99Milliseconds: Double
        /// The core's peak resident memory (the largest of the cores').
        public let rssMegabytes: Double

        enum CodingKeys: String, CodingKey {
            case messages, rounds
            case messageSize = "message_size"
            case throughputMessagesPerSecond = "throughput_msgs_per_s"
            case baselineMessagesPerSecond = "baseline_msgs_per_s"
            case ratio
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
            case halfRateMessagesPerSecond = "half_rate_msgs_per_s"
            case fullRateP50Milliseconds = "full_rate_p50_ms"
            case fullRateP99Milliseconds = "full_rate_p99_ms"
            case baselineP50Milliseconds = "baseline_p50_ms"
            case baselineP99Milliseconds = "baseline_p99_ms"
            case rssMegabytes = "rss_mb"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static let messageType = "document.issue-requested.v1"

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        let baseline = try TransportBenchmark.buildProgram("Benchmarks/core-hop-baseline.c", named: "govbus-core-hop-baseline")
        guard let schemas = TransportBenchmark.locateRepositoryFile("Schemas"),
            let procedures = TransportBenchmark.locateRepositoryFile("config/procedures.yaml")
        else { throw Failure(description: "cannot find Schemas/ and config/: run from the repository") }
        let bus = try await BenchBus.provision(options, progress: progress)
        defer { Task { try? await bus.remove() } }
        let cores = try await bus.startCores(
            options.cores, store: options.store, executable: options.govbusExecutable, schemas: schemas, procedures: procedures,
            progress: progress)
        defer { for core in cores { core.stop() } }

        var rawRuns: [TransportBenchmark.Figures] = []
        var coreRuns: [TransportBenchmark.Figures] = []
        for round in 1...options.rounds {
            progress("round \(round): raw rabbitmq-c hop, \(options.messages) messages")
            rawRuns.append(try await bus.runBaseline(baseline, messages: options.messages, options: options))
            progress("round \(round): govbus core, \(options.messages) messages")
            coreRuns.append(try await bus.runCore(messages: options.messages, options: options, rate: nil))
            progress("round \(round): \(Int(coreRuns.last!.throughput)) against \(Int(rawRuns.last!.throughput)) msg/s")
        }
        let raw = TransportBenchmark.Figures.median(of: rawRuns)
        let full = TransportBenchmark.Figures.median(of: coreRuns)
        let halfRate = full.throughput / 2
        progress("govbus core at half that rate, \(Int(halfRate)) msg/s")
        let half = try await bus.runCore(messages: options.messages, options: options, rate: halfRate)
        let rss = cores.map { Self.peakResidentMegabytes(of: $0.pid) }.max() ?? 0
        return Result(
            messages: options.messages, rounds: options.rounds, messageSize: bus.body.count,
            throughputMessagesPerSecond: full.throughput, baselineMessagesPerSecond: raw.throughput,
            ratio: full.throughput / raw.throughput, p50Milliseconds: half.p50, p99Milliseconds: half.p99,
            halfRateMessagesPerSecond: halfRate, fullRateP50Milliseconds: full.p50, fullRateP99Milliseconds: full.p99,
            baselineP50Milliseconds: raw.p50, baselineP99Milliseconds: raw.p99, rssMegabytes: rss)
    }

    /// VmHWM: the most the process held in memory at once.
    static func peakResidentMegabytes(of pid: pid_t) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }
}
