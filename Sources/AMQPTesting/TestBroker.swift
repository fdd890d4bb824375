public import Foundation
public import GovBusProcesses

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
        let output = try runBlocking(script: "broker", arguments: ["start"] + (tls ? ["--tls"] : []))
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

    /// Blocks its thread while the node stops (a `defer` can call it).
    public func stop() throws {
        _ = try Self.runBlocking(script: "broker", arguments: ["stop", directory])
    }

    /// Stops and starts the RabbitMQ application on the node: every connection is closed with
    /// CONNECTION_FORCED and the listener is away until it is back.
    public func restart() async throws {
        _ = try await Self.run(script: "broker", arguments: ["restart", directory])
    }

    /// Runs rabbitmqctl against this node and returns what it printed.
    @discardableResult
    public func rabbitmqctl(_ arguments: String...) async throws -> String {
        try await Self.run(script: "broker", arguments: ["ctl", directory] + arguments)
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
    @discardableResult
    public static func run(script: String, arguments: [String]) async throws -> String {
        try await onOwnThread { try runBlocking(script: script, arguments: arguments) }
    }

    /// The same, blocking the calling thread: for `defer` and for code already on its own thread.
    @discardableResult
    public static func runBlocking(script: String, arguments: [String]) throws -> String {
        try ChildProcess.run(repositoryRoot.appendingPathComponent("scripts/\(script)").path, arguments)
    }

    /// Runs a program on a thread of its own and returns its standard output; throws with its
    /// error output on failure. Tests must not block the few threads Swift concurrency has: the
    /// other tests running meanwhile would wait, and their timings would mean nothing.
    @discardableResult
    public static func runProcess(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil
    ) async throws -> String {
        try await onOwnThread { try ChildProcess.run(executable, arguments, input: input, environment: environment) }
    }

    /// Like `runProcess`, whatever the exit status.
    public static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil
    ) async throws -> ChildProcess.Outcome {
        try await onOwnThread { try ChildProcess.execute(executable, arguments, environment: environment) }
    }

    /// Runs blocking work (a process, a broker restart) on a thread of its own, so that it does
    /// not hold one of the few threads Swift concurrency runs tasks on.
    public static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await ChildProcess.onOwnThread(work)
    }
}
