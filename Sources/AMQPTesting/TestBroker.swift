public import Foundation
import Glibc

/// A RabbitMQ node for tests: the one `scripts/test` started (found through the environment), or
/// a dedicated one a test starts and stops itself with `scripts/broker`, for tests that restart
/// the broker and must not disturb the others.
public struct TestBroker: Sendable {
    public let directory: String
    public let node: String
    public let amqpURL: String
    public let managementURL: String
    public let amqpsURL: String?
    public let tlsDirectory: String?

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// The broker named by GOVBUS_AMQP_URL and GOVBUS_BROKER_DIR. Missing, it is an error, not a skip:
    /// run the tests through `scripts/test`, or `eval "$(scripts/broker start --tls)"` first.
    public static func fromEnvironment() throws -> TestBroker {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["GOVBUS_AMQP_URL"], let directory = environment["GOVBUS_BROKER_DIR"]
        else {
            throw Unavailable(
                description:
                    "no test broker: GOVBUS_AMQP_URL and GOVBUS_BROKER_DIR are not set. Run scripts/test, or eval \"$(scripts/broker start --tls)\" before swift test.")
        }
        return TestBroker(
            directory: directory, node: environment["GOVBUS_BROKER_NODE"] ?? "", amqpURL: url,
            managementURL: environment["GOVBUS_MANAGEMENT_URL"] ?? "",
            amqpsURL: environment["GOVBUS_AMQPS_URL"], tlsDirectory: environment["GOVBUS_TLS_DIR"])
    }

    /// Starts a node of the test's own; stop it with `stop()`.
    public static func startDedicated(tls: Bool = false) throws -> TestBroker {
        let output = try run(script: "broker", arguments: ["start"] + (tls ? ["--tls"] : []))
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        guard let url = values["GOVBUS_AMQP_URL"], let directory = values["GOVBUS_BROKER_DIR"] else {
            throw Unavailable(description: "scripts/broker start printed no URL:\n\(output)")
        }
        return TestBroker(
            directory: directory, node: values["GOVBUS_BROKER_NODE"] ?? "", amqpURL: url,
            managementURL: values["GOVBUS_MANAGEMENT_URL"] ?? "", amqpsURL: values["GOVBUS_AMQPS_URL"],
            tlsDirectory: values["GOVBUS_TLS_DIR"])
    }

    public func stop() throws {
        _ = try Self.run(script: "broker", arguments: ["stop", directory])
    }

    /// Stops and starts the RabbitMQ application on the node: every connection is closed with
    /// CONNECTION_FORCED and the listener is away until it is back.
    public func restart() throws {
        _ = try Self.run(script: "broker", arguments: ["restart", directory])
    }

    /// Runs rabbitmqctl against this node and returns what it printed.
    @discardableResult
    public func rabbitmqctl(_ arguments: String...) throws -> String {
        try Self.run(script: "broker", arguments: ["ctl", directory] + arguments)
    }

    /// The AMQP URL with other credentials or another vhost (percent-encoded as needed).
    public func url(user: String, password: String, vhost: String = "/", secure: Bool = false) -> String {
        let base = URLComponents(string: secure ? (amqpsURL ?? amqpURL) : amqpURL)!
        var components = URLComponents()
        components.scheme = base.scheme
        components.host = base.host
        components.port = base.port
        components.user = user
        components.password = password
        components.percentEncodedPath = "/" + (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        return components.string!
    }

    /// A name no other test uses, for queues, exchanges, vhosts and users.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The repository's root folder, found from this file's place in it.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Runs `scripts/NAME` and returns its standard output; throws with its error output on failure.
    public static func run(script: String, arguments: [String]) throws -> String {
        try runProcess(repositoryRoot.appendingPathComponent("scripts/\(script)").path, arguments)
    }

    /// Runs a program and returns its standard output; throws with its error output on failure.
    /// Output goes through files, not pipes, and the child is reaped with waitpid: Foundation's
    /// Process can hang in waitUntilExit off the main thread on Linux.
    @discardableResult
    public static func runProcess(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil
    ) throws -> String {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("govbus-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inputPath = scratch.appendingPathComponent("in").path
        let outputPath = scratch.appendingPathComponent("out").path
        let errorPath = scratch.appendingPathComponent("err").path
        try (input ?? Data()).write(to: URL(fileURLWithPath: inputPath))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let variables = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw Unavailable(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw Unavailable(
                description:
                    "\(executable) \(arguments.joined(separator: " ")) failed (status \(status)): \(errors)\(output)")
        }
        return output
    }

    /// Runs blocking work (a process, a broker restart) on a thread of its own, so that it does
    /// not hold one of the few threads Swift concurrency runs tasks on.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
