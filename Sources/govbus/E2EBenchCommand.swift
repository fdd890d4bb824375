import GovBusProcesses
import ArgumentParser
import Foundation
import Glibc

struct E2EBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e",
        abstract: "Dossiers through the whole stack: dossiers per second, and times from submission to the end.",
        discussion: """
            Starts the stack itself with `govbus up` on the broker it is given (a vhost of its own), \
            pushes dossiers through the portal sandbox (half of them paid, none refused by the \
            registry), follows them to their end, then half as many again at half the rate \
            measured, evenly spaced, and stops the stack. dossiers_per_s counts from the first \
            submission to the last end; the times are per dossier, from the portal's submission to \
            the last status the portal heard: p50_ms and p99_ms at half rate, full_rate_* at once.
            """)

    @OptionGroup var broker: BrokerOptions
    @Option(name: .customLong("management-url"), help: "http://user:password@host:15672 (default: $GOVBUS_MANAGEMENT_URL).")
    var managementURL: String?
    @Option(help: "How many dossiers.") var dossiers = 1000
    @Option(help: "The stack's ports (see govbus up --ports).") var ports = 19080
    @Flag(help: "Print one JSON object.") var json = false

    struct Result: Encodable {
        let dossiers: Int
        let ended: Int
        let completed: Int
        let seconds: Double
        let dossiersPerSecond: Double
        /// Submission to the portal's last status, with every dossier pushed at once (mostly queueing).
        let fullRateP50Milliseconds: Double
        let fullRateP99Milliseconds: Double
        /// The same at half the measured rate, the dossiers evenly spaced: what a citizen waits.
        let halfRateDossiersPerSecond: Double
        let p50Milliseconds: Double
        let p99Milliseconds: Double

        enum CodingKeys: String, CodingKey {
            case dossiers, ended, completed, seconds
            case dossiersPerSecond = "dossiers_per_s"
            case fullRateP50Milliseconds = "full_rate_p50_ms"
            case fullRateP99Milliseconds = "full_rate_p99_ms"
            case halfRateDossiersPerSecond = "half_rate_dossiers_per_s"
            case p50Milliseconds = "p50_ms"
            case p99Milliseconds = "p99_ms"
        }
    }

    /// One batch's figures.
    struct Run {
        let ended: Int
        let completed: Int
        let seconds: Double
        let p50: Double
        let p99: Double
    }

    func run() async throws {
        guard let management = managementURL ?? ProcessInfo.processInfo.environment["GOVBUS_MANAGEMENT_URL"] else {
            throw ValidationError("no management API: pass --management-url or set GOVBUS_MANAGEMENT_URL")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("govbus-bench-e2e-\(getpid())")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let stack = try ChildProcess.start(
            executable, ["up", "--work", work.path, "--ports", "\(ports)", "--vhost", "govbus-bench-e2e", "--fresh"],
            environment: ["GOVBUS_AMQP_URL": try broker.resolvedURL(), "GOVBUS_MANAGEMENT_URL": management],
            errors: work.path + ".log")
        defer { try? FileManager.default.removeItem(at: work) }
        do {
            let result = try await measure(readyFile: work.appendingPathComponent("ready"), stack: stack)
            stack.send(signal: SIGINT)
            _ = try await stack.exitStatus(within: .seconds(60))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(
                    String(
                        format:
                            "%d dossiers (%d completed) in %.1f s: %.1f dossiers/s; submission to end p50 %.0f ms, p99 %.0f ms; at %.1f dossiers/s: p50 %.0f ms, p99 %.0f ms",
                        result.dossiers, result.completed, result.seconds, result.dossiersPerSecond,
                        result.fullRateP50Milliseconds, result.fullRateP99Milliseconds, result.halfRateDossiersPerSecond,
                        result.p50Milliseconds, result.p99Milliseconds))
            }
        } catch {
            stack.send(signal: SIGINT)
            _ = try? await stack.exitStatus(within: .seconds(60))
            throw error
        }
    }

    func measure(readyFile: URL, stack: ChildProcess.Running) async throws -> Result {
        let deadline = ContinuousClock.now + .seconds(300)
        while !FileManager.default.fileExists(atPath: readyFile.path) {
            if try await stack.exitStatus(within: .milliseconds(500)) != nil {
                throw ValidationError("govbus up failed: see \(readyFile.deletingLastPathComponent().path).log")
            }
            guard ContinuousClock.now < deadline else { throw ValidationError("govbus up was not ready within 300 s") }
        }
        let run = SampleRun(portal: "http://127.0.0.1:\(ports + 11)")
        let full = try await measure(run, count: dossiers, perSecond: nil)
        let rate = Double(full.ended) / full.seconds
        FileHandle.standardError.write(
            Data("bench: \(full.ended) dossiers in \(String(format: "%.1f", full.seconds)) s; now half that rate\n".utf8))
        let half = try await measure(run, count: max(1, dossiers / 2), perSecond: rate / 2)
        return Result(
            dossiers: dossiers, ended: full.ended, completed: full.completed, seconds: full.seconds,
            dossiersPerSecond: rate, fullRateP50Milliseconds: full.p50, fullRateP99Milliseconds: full.p99,
            halfRateDossiersPerSecond: rate / 2, p50Milliseconds: half.p50, p99Milliseconds: half.p99)
    }

    /// Submits a batch (all at once, or `perSecond`) and follows it to its end.
    func measure(_ run: SampleRun, count: Int, perSecond: Double?) async throws -> Run {
        let started = Date()
        let (batch, refused) = try await run.submit(count: count, paidShare: 0.5, mismatchShare: 0, perSecond: perSecond)
        // Each poll reads the whole batch from the portal sandbox, on the machine measured: not too often.
        let summaries = try await run.follow(
            batch: batch, expecting: count - refused.count, timeout: .seconds(600), every: .seconds(2)
        ) { _ in }
        let ended = summaries.filter(\.hasEnded)
        let lastEnd = ended.compactMap(\.lastUpdateAt).max() ?? Date().timeIntervalSince1970
        let times = ended.compactMap(\.seconds).sorted()
        return Run(
            ended: ended.count, completed: ended.filter { $0.lastStatus == "completed" }.count,
            seconds: lastEnd - started.timeIntervalSince1970,
            p50: times.isEmpty ? 0 : times[times.count / 2] * 1000,
            p99: times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * 0.99))] * 1000)
    }
}
