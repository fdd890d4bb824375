public import Foundation
import Glibc

/// Runs programs for the CLI (`govbus up`'s children), the benchmarks and the tests. Standard streams go through files, not pipes, and
/// children are reaped with waitpid: Foundation's Process can hang in waitUntilExit off the main
/// thread on Linux.
public enum ChildProcess {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs a program to its end and returns its standard output; throws with its error output
    /// when it fails.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil
    ) throws -> String {
        let result = try execute(executable, arguments, input: input, environment: environment)
        guard result.status == 0 else {
            throw Failure(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) failed (status \(result.status)): \(result.errors)\(result.output)")
        }
        return result.output
    }

    /// What a finished program did: its exit status (128 + the signal when a signal ended it) and
    /// its two output streams.
    public struct Outcome: Sendable {
        public let status: Int32
        public let output: String
        public let errors: String
    }

    /// Runs a program to its end, whatever its exit status.
    public static func execute(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil
    ) throws -> Outcome {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("govbus-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputPath = scratch.appendingPathComponent("in").path
        let outputPath = scratch.appendingPathComponent("out").path
        let errorPath = scratch.appendingPathComponent("err").path
        try (input ?? Data()).write(to: URL(fileURLWithPath: inputPath))

        let pid = try spawn(
            executable, arguments, environment: environment, input: inputPath, output: outputPath, errors: errorPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7f
        return Outcome(
            status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
            output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            errors: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }

    /// Starts a program in the background; its standard output goes to a file `firstLine` reads.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, errors: String = "/dev/null",
        output: String? = nil
    ) throws -> Running {
        let outputPath = output ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("govbus-child-\(UUID().uuidString).out").path
        let pid = try spawn(
            executable, arguments, environment: environment, input: "/dev/null", output: outputPath, errors: errors)
        return Running(pid: pid, outputPath: outputPath)
    }

    private static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]?, input: String,
        output: String, errors: String
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_APPEND, 0o644)

        // An empty signal mask and default handlers: the threads Swift concurrency runs on block
        // most signals, and a child would inherit that mask (and never see SIGTERM or SIGUSR1).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGUSR1, SIGUSR2, SIGTERM, SIGINT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let variables = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        return pid
    }

    /// A program started with `start`.
    public struct Running: Sendable {
        public let pid: pid_t
        let outputPath: String

        /// Line `number` (from 1) of what the program printed, waiting for it up to `timeout`.
        public func line(number: Int, within timeout: Duration = .seconds(10)) async throws -> String {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let text = try? String(contentsOfFile: outputPath, encoding: .utf8) {
                    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                    if lines.count >= number { return String(lines[lines.index(lines.startIndex, offsetBy: number - 1)]) }
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw Failure(description: "process \(pid) printed no line \(number) within \(timeout)")
        }

        public func send(signal number: Int32) {
            kill(pid, number)
        }

        /// The exit status once the program ends (128 + the signal when a signal ended it), or nil
        /// if it is still running after `timeout`.
        public func exitStatus(within timeout: Duration) async throws -> Int32? {
            let deadline = ContinuousClock.now + timeout
            var status: Int32 = 0
            while ContinuousClock.now < deadline {
                if waitpid(pid, &status, WNOHANG) == pid {
                    let signal = status & 0x7f
                    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }

        /// Everything the program printed so far.
        public var output: String {
            (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        }

        /// Ends the program (SIGTERM, then SIGKILL) and reaps it.
        public func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            for _ in 0..<50 {
                if waitpid(pid, &status, WNOHANG) == pid {
                    try? FileManager.default.removeItem(atPath: outputPath)
                    return
                }
                usleep(20_000)
            }
            kill(pid, SIGKILL)
            _ = waitpid(pid, &status, 0)
            try? FileManager.default.removeItem(atPath: outputPath)
        }
    }

    /// `execute` on a thread of its own, so that waiting for the program does not hold one of the
    /// few threads Swift concurrency runs tasks on.
    public static func executeOffPool(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil
    ) async throws -> Outcome {
        try await onOwnThread { try execute(executable, arguments, input: input, environment: environment) }
    }

    /// Runs blocking work (a process, a broker restart) on a thread of its own.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
