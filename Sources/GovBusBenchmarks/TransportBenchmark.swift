public import AMQP
import GovBusProcesses
import Foundation
import Glibc
import Logging

/// `govbus bench transport`: one publisher (persistent messages, confirms, a window of unconfirmed
/// messages) and one consumer (a prefetch, one ack per message) through one queue, first with the
/// raw rabbitmq-c baseline program, then with the AMQP module, on the same broker in the same run.
public enum TransportBenchmark {
    public struct Options: Sendable {
        public var amqpURL: String
        public var messages: Int
        public var messageSize: Int
        public var window: Int
        public var prefetch: Int
        public var queueKinds: [AMQPQueue.Kind]
        /// The C source of the baseline; found in the repository when nil.
        public var baselineSource: String?
        /// Run the publishing and consuming tasks on their connections' own threads
        /// (`AMQPConnection.executor`) rather than on Swift's global executor.
        public var onConnectionThreads: Bool
        /// Runs of each side, alternated (baseline, Swift, baseline, ...); the medians are reported,
        /// since these machines are shared and one run is noisy.
        public var rounds: Int

        public init(
            amqpURL: String, messages: Int = 100_000, messageSize: Int = 1024, window: Int = 256,
            prefetch: Int = 256, queueKinds: [AMQPQueue.Kind] = [.classic, .quorum], baselineSource: String? = nil,
            onConnectionThreads: Bool = true, rounds: Int = 3
        ) {
            self.onConnectionThreads = onConnectionThreads
            self.rounds = max(1, rounds)
            self.amqpURL = amqpURL
            self.messages = messages
            self.messageSize = messageSize
            self.window = window
            self.prefetch = prefetch
            self.queueKinds = queueKinds
            self.baselineSource = baselineSource
        }
    }

    /// One run's figures: throughput in messages per second, publish-to-consume latency in ms.
    public struct Figures: Codable, Sendable {
        public let throughput: Double
        public let p50: Double
        public let p99: Double

        /// Each figure's median over the runs.
        static func median(of runs: [Figures]) -> Figures {
            func median(_ values: [Double]) -> Double {
                let sorted = values.sorted()
                return sorted.count % 2 == 1
                    ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
            return Figures(
                throughput: median(runs.map(\.throughput)), p50: median(runs.map(\.p50)), p99: median(runs.map(\.p99)))
        }

        enum CodingKeys: String, CodingKey {
            case throughput = "throughput_msgs_per_s"
            case p50 = "p50_ms"
            case p99 = "p99_ms"
        }
    }

    public struct Result: Codable, Sendable {
        public let queueType: String
        public let rounds: Int
        public let messages: Int
        public let messageSize: Int
        public let throughputMessagesPerSecond: Double
        public let baselineMessagesPerSecond: Double
        public let ratio: Double
        public let p50Milliseconds: Double
        public let p99Milliseconds: Double
        public let baselineP50Milliseconds: Double
        public let baselineP99Milliseconds: Double

        enum CodingKeys: String, CodingKey {
            case queueType = "queue_type"
            case rounds
            case messages
            case messageSize = "message_size"
            case throughputMessagesPerSecond = "throughput_msgs_per_s"
            case baselineMessagesPerSecond = "baseline_msgs_per_s"
            case ratio
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
            case baselineP50Milliseconds = "baseline_p50_ms"
            case baselineP99Milliseconds = "baseline_p99_ms"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ options: Options, progress: (String) -> Void) async throws -> [Result] {
        let baseline = try buildBaseline(options.baselineSource)
        progress("built the rabbitmq-c baseline: \(baseline)")
        let connection = try await AMQPConnection.connect(url: options.amqpURL, logger: quietLogger)
        defer { Task { await connection.close() } }
        var results: [Result] = []
        for kind in options.queueKinds {
            var rawRuns: [Figures] = []
            var swiftRuns: [Figures] = []
            for round in 1...options.rounds {
                let baselineQueue = "govbus.bench.baseline.\(kind.rawValue).\(UInt32.random(in: 0...UInt32.max))"
                try await connection.declare(AMQPQueue(baselineQueue, kind: kind))
                progress("\(kind.rawValue) round \(round): raw rabbitmq-c, \(options.messages) messages")
                rawRuns.append(try await runBaseline(baseline, options, queue: baselineQueue))
                try await connection.deleteQueue(baselineQueue)

                let swiftQueue = "govbus.bench.swift.\(kind.rawValue).\(UInt32.random(in: 0...UInt32.max))"
                try await connection.declare(AMQPQueue(swiftQueue, kind: kind))
                progress("\(kind.rawValue) round \(round): GovBus AMQP, \(options.messages) messages")
                swiftRuns.append(try await runSwift(options, queue: swiftQueue))
                try await connection.deleteQueue(swiftQueue)
                progress(
                    "\(kind.rawValue) round \(round): \(Int(swiftRuns.last!.throughput)) against \(Int(rawRuns.last!.throughput)) msg/s")
            }
            let raw = Figures.median(of: rawRuns)
            let swift = Figures.median(of: swiftRuns)
            results.append(
                Result(
                    queueType: kind.rawValue, rounds: options.rounds, messages: options.messages,
                    messageSize: options.messageSize, throughputMessagesPerSecond: swift.throughput,
                    baselineMessagesPerSecond: raw.throughput, ratio: swift.throughput / raw.throughput,
                    p50Milliseconds: swift.p50, p99Milliseconds: swift.p99, baselineP50Milliseconds: raw.p50,
                    baselineP99Milliseconds: raw.p99))
        }
        return results
    }

    // MARK: The AMQP module

    static func runSwift(_ options: Options, queue: String) async throws -> Figures {
        var configuration = try AMQPConfiguration(url: options.amqpURL)
        configuration.confirmWindow = options.window
        configuration.connectionName = "govbus bench transport"
        let publisher = try await AMQPConnection.connect(configuration, logger: quietLogger)
        let consumerConnection = try await AMQPConnection.connect(configuration, logger: quietLogger)
        let consumer = try await consumerConnection.consume(queue: queue, prefetch: UInt16(options.prefetch))
        let total = options.messages
        let consumerExecutor = options.onConnectionThreads ? consumerConnection.executor : nil
        let consuming = Task(executorPreference: consumerExecutor) {
            var latencies: [Double] = []
            latencies.reserveCapacity(total)
            var lastConsume: UInt64 = 0
            for try await delivery in consumer {
                let now = monotonicNanoseconds()
                let stamp = delivery.body.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                latencies.append(Double(now - stamp) / 1e6)
                delivery.ack()
                if latencies.count == total {
                    lastConsume = now
                    break
                }
            }
            return (latencies, lastConsume)
        }
        try await Task.sleep(for: .milliseconds(200))

        let firstPublish = monotonicNanoseconds()
        try await withTaskExecutorPreference(options.onConnectionThreads ? publisher.executor : nil) {
            try await publishAll(options, through: publisher, to: queue)
        }
        let (latencies, lastConsume) = try await consuming.value
        await consumer.cancel()
        await publisher.close()
        await consumerConnection.close()
        guard latencies.count == total else {
            throw Failure(description: "the consumer got \(latencies.count) of \(total) messages")
        }
        let sorted = latencies.sorted()
        return Figures(
            throughput: Double(total) / (Double(lastConsume - firstPublish) / 1e9),
            p50: sorted[total / 2], p99: sorted[Int(Double(total) * 0.99)])
    }

    /// Connections of the benchmark log warnings and errors only: progress lines say the rest.
    static var quietLogger: Logger {
        var logger = Logger(label: "govbus.bench")
        logger.logLevel = .warning
        return logger
    }

    /// As many lanes as the window: each keeps one message waiting for its confirm. Each body
    /// starts with the time of its publish.
    static func publishAll(_ options: Options, through publisher: AMQPConnection, to queue: String) async throws {
        let size = max(options.messageSize, 8)
        let total = options.messages
        let properties = AMQPProperties(contentType: "application/octet-stream", deliveryMode: .persistent)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<options.window {
                group.addTask {
                    var body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
                    for _ in stride(from: lane, to: total, by: options.window) {
                        var stamp = monotonicNanoseconds()
                        withUnsafeBytes(of: &stamp) { stampBytes in
                            body.withUnsafeMutableBytes { $0.copyMemory(from: stampBytes) }
                        }
                        try await publisher.publish(
                            AMQPMessage(body: body, properties: properties), exchange: "", routingKey: queue)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    // MARK: The raw rabbitmq-c baseline

    static func runBaseline(_ program: String, _ options: Options, queue: String) async throws -> Figures {
        let arguments = [
            options.amqpURL, queue, "\(options.messages)", "\(options.messageSize)", "\(options.window)",
            "\(options.prefetch)",
        ]
        let output = try await ChildProcess.onOwnThread { try ChildProcess.run(program, arguments) }
        guard let line = output.split(separator: "\n").last else {
            throw Failure(description: "the baseline printed nothing")
        }
        return try JSONDecoder().decode(Figures.self, from: Data(line.utf8))
    }

    /// Compiles the baseline's C source with the system's C compiler and rabbitmq-c's pkg-config flags.
    static func buildBaseline(_ source: String?) throws -> String {
        try buildProgram("Benchmarks/transport-baseline.c", named: "govbus-transport-baseline", source: source)
    }

    /// Compiles a C program of the repository against rabbitmq-c; returns the executable's path.
    static func buildProgram(_ relativePath: String, named name: String, source: String? = nil) throws -> String {
        guard let source = source ?? locateRepositoryFile(relativePath) else {
            throw Failure(description: "cannot find \(relativePath): run from the repository or pass its source")
        }
        let flags = try ChildProcess.run("/usr/bin/pkg-config", ["--cflags", "--libs", "librabbitmq"])
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let program = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        try ChildProcess.run("/usr/bin/cc", ["-O2", "-o", program, source] + flags + ["-lpthread"])
        return program
    }

    /// A file of the repository, looked for above the working folder and above the executable.
    static func locateRepositoryFile(_ relativePath: String) -> String? {
        var candidates: [URL] = []
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            candidates.append(folder)
            folder.deleteLastPathComponent()
        }
        var executableFolder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<6 {
            executableFolder.deleteLastPathComponent()
            candidates.append(executableFolder)
        }
        return candidates.map { $0.appendingPathComponent(relativePath).path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }
}
