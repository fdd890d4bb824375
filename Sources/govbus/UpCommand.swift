import AMQP
import ArgumentParser
import AsyncHTTPClient
import Foundation
import Glibc
import GovBus
import GovBusConfiguration
import GovBusCore
import GovBusProcesses
import Synchronization

struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start the local stack: broker, core, the four adapters and their sandboxes; Ctrl-C stops them all.",
        discussion: """
            Uses the broker of GOVBUS_AMQP_URL and GOVBUS_MANAGEMENT_URL, or starts one with \
            scripts/broker. Provisions the vhost and users, writes every configuration file in the \
            work folder, starts each part as a child process with its log in <work>/logs, and waits \
            until each answers /health. Then it writes <work>/ready and waits for SIGINT or SIGTERM. \
            With --cores 2 (or more) and --store postgres, the cores share one PostgreSQL database \
            and the core's queue in \(partitionsWithSeveralCores) partitions; kill one and the \
            others take its partitions over.
            """)

    /// The partitions of the core's queue when several cores share it: enough for 8 cores.
    static let partitionsWithSeveralCores = 8

    @Option(help: "The work folder: configuration, data and logs.") var work = "var/up"
    @Option(help: "Ports: the core's /metrics at this one, adapters at +1..+4, sandboxes at +11..+14.") var ports = 18080
    @Option(help: "The vhost.") var vhost = "govbus"
    @Flag(help: "Start from empty data (the work folder's data is removed first).") var fresh = false
    @Option(help: "Tries of an adapter's failing inbox message before it goes to the dead letters.") var inboxRetries = 16
    @Option(help: "How many cores (more than one needs --store postgres).") var cores = 1
    @Option(
        help: ArgumentHelp(
            "Where the cores keep their state: sqlite, postgres or a postgres:// URL.",
            discussion: "sqlite: files in the work folder. postgres: the server of GOVBUS_STORE, or a throwaway one started with scripts/postgres."))
    var store = "sqlite"
    @Option(
        help: ArgumentHelp(
            "An adapter that runs as several instances, as name=count (repeatable), e.g. portal=2.",
            discussion: "Its inbox is split into partitions by dossier, which the instances share; kill one and the others take its partitions over."))
    var instances: [String] = []
    @Option(
        help: ArgumentHelp(
            "An adapter started by this command instead of the built-in one, as name=command (repeatable).",
            discussion: """
                The command (split at spaces, run from the repository) gets `--config <work>/<name>.yaml`, \
                the same file the built-in adapter reads, and must answer /health on its `listen` address. \
                For an adapter written in another language, e.g. \
                registry=python3 Adapters/Examples/python-registry/adapter.py.
                """))
    var external: [String] = []
    @Option(
        help: ArgumentHelp(
            "Start a broker cluster of this many nodes (with scripts/broker) instead of one node.",
            discussion: "Every client gets the list of nodes and fails over to another when its node is lost; every queue has 3 members."))
    var cluster: Int?

    /// `--external` as adapter → its command's words.
    var externalCommands: [String: [String]] {
        var commands: [String: [String]] = [:]
        for item in external {
            guard let equals = item.firstIndex(of: "=") else { continue }
            commands[String(item[..<equals])] = item[item.index(after: equals)...].split(separator: " ").map(String.init)
        }
        return commands
    }

    /// `--instances` as adapter → count.
    var instanceCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for item in instances {
            let parts = item.split(separator: "=")
            if parts.count == 2, let count = Int(parts[1]) { counts[String(parts[0])] = count }
        }
        return counts
    }

    func validate() throws {
        for item in instances {
            let parts = item.split(separator: "=")
            guard parts.count == 2, LocalStack.connectors.contains(String(parts[0])), let count = Int(parts[1]), (1...4).contains(count)
            else {
                throw ValidationError(
                    "--instances \(item): give adapter=count, the adapter one of \(LocalStack.connectors.joined(separator: ", ")), the count from 1 to 4")
            }
        }
        for item in external {
            let name = item.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            guard LocalStack.connectors.contains(name), item.split(separator: "=", maxSplits: 1).count == 2 else {
                throw ValidationError(
                    "--external \(item): give adapter=command, the adapter one of \(LocalStack.connectors.joined(separator: ", "))")
            }
            guard (instanceCounts[name] ?? 1) == 1 else { throw ValidationError("--external \(name) runs one instance") }
        }
        // Ports: adapters at base+1…, sandboxes at base+11…, the console at base+20.
        guard LocalStack.connectors.count <= 9 else {
            throw ValidationError("govbus up lays out ports for 9 connectors at most; this build has \(LocalStack.connectors.count)")
        }
        guard (1...Self.partitionsWithSeveralCores).contains(cores) else {
            throw ValidationError("--cores must be from 1 to \(Self.partitionsWithSeveralCores)")
        }
        guard store == "sqlite" || store == "postgres" || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") else {
            throw ValidationError("--store must be sqlite, postgres or a postgres:// URL")
        }
        if let cluster, !(1...5).contains(cluster) {
            throw ValidationError("--cluster must be from 1 to 5 nodes")
        }
        if cores > 1, store == "sqlite" {
            throw ValidationError("several cores share one database: pass --store postgres (SQLite files belong to one core)")
        }
    }

    func run() async throws {
        let repository = try Self.repository()
        let work = URL(fileURLWithPath: self.work, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
        if fresh { try? FileManager.default.removeItem(at: work) }
        // 0700: it holds passwords, keys and personal data.
        try SecretFile.makeDirectory(at: work)
        try? FileManager.default.removeItem(at: work.appendingPathComponent("ready"))
        try? FileManager.default.removeItem(at: work.appendingPathComponent("logs"))

        let children = ChildGroup()
        let signals = SignalWatcher([SIGINT, SIGTERM])
        var broker = try await Self.broker(repository: repository, work: work, cluster: cluster)
        defer { broker.stop(repository: repository) }
        var database = try await Self.database(store, repository: repository)
        defer { database.stop(repository: repository) }
        var stack = LocalStack(
            repository: repository, work: work, portBase: ports, vhost: vhost, amqpNodes: broker.nodes,
            passwords: try Self.passwords(in: work), managementURL: broker.managementURL)
        stack.inboxRetries = inboxRetries
        stack.store = database.url
        stack.instances = instanceCounts
        try stack.writeConfigurations()
        guard let management = URL(string: broker.managementURL), let managementHost = management.host else {
            throw ValidationError("GOVBUS_MANAGEMENT_URL is not a URL: http://user:password@host:15672")
        }
        say("provisioning vhost \(vhost) through the management API at \(managementHost):\(management.port ?? 80)")
        try await BrokerProvisioner(managementURL: management).provision(
            vhost: vhost, coreUser: "govbus-core", corePassword: stack.password(of: "govbus-core"),
            adapters: Dictionary(uniqueKeysWithValues: LocalStack.connectors.map { ($0, stack.password(of: $0)) }))

        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        do {
            // The environment would win over core.yaml: it says the same. Each core has its own
            // data folder (its crash witness, its checkpoints file) and /metrics port.
            for index in 0..<cores {
                var environment = [
                    "GOVBUS_AMQP_URL": stack.amqpURL(user: "govbus-core"),
                    "GOVBUS_DATA_DIR": work.appendingPathComponent(stack.coreFolder(index)).path,
                    "GOVBUS_TELEMETRY": "127.0.0.1:\(stack.corePort(index))",
                    "GOVBUS_OPERATOR_TOKEN": stack.password(of: "operator-token"),
                    "GOVBUS_CORE_PARTITIONS": "\(cores > 1 ? Self.partitionsWithSeveralCores : 1)",
                    "GOVBUS_CORE_INSTANCE": "\(index)/\(cores)",
                    // Sandbox mode: routes.yaml trusts the sandbox's public keys, and only here may it.
                    SandboxKeyCheck.environmentVariable: "allow",
                ]
                // Said outright, so that a GOVBUS_STORE of the shell does not split the stack.
                environment["GOVBUS_STORE"] = database.url ?? work.appendingPathComponent("core").path
                let name = index == 0 ? "core" : "core-\(index)"
                try children.start(
                    name, executable, ["core", "--config", work.appendingPathComponent("core.yaml").path], logs: stack.logs,
                    environment: environment)
            }
            for index in 0..<cores {
                try await waitForHealth(
                    index == 0 ? "core" : "core \(index)", port: stack.corePort(index), children: children, logs: stack.logs)
            }
            for name in LocalStack.connectors {
                try children.start(
                    "\(name)-sandbox", executable, stack.sandboxArguments(name), logs: stack.logs,
                    environment: stack.sandboxEnvironment(name))
            }
            for name in LocalStack.connectors {
                try await waitForHealth(
                    "\(name) sandbox", port: stack.sandboxPort(name), children: children, logs: stack.logs)
            }
            for name in LocalStack.connectors {
                for index in 0..<(stack.instances[name] ?? 1) {
                    let instance = LocalStack.instanceName(name, index)
                    let config = work.appendingPathComponent("\(instance).yaml").path
                    if let command = externalCommands[name], let program = command.first {
                        try children.start(
                            instance, Self.resolve(program), Array(command.dropFirst()) + ["--config", config], logs: stack.logs)
                    } else {
                        try children.start(instance, executable, ["adapter", name, "--config", config], logs: stack.logs)
                    }
                }
            }
            for name in LocalStack.connectors {
                for index in 0..<(stack.instances[name] ?? 1) {
                    try await waitForHealth(
                        "\(LocalStack.instanceName(name, index)) adapter", port: stack.adapterPort(name, instance: index),
                        children: children, logs: stack.logs)
                }
            }
            // The cores' store, said outright as for the cores (a GOVBUS_STORE of the shell would win).
            try children.start(
                "console", executable, ["console", "serve", "--config", work.appendingPathComponent("console.yaml").path],
                logs: stack.logs,
                environment: SandboxKeyCheck.sandboxMode.merging(
                    ["GOVBUS_STORE": database.url ?? work.appendingPathComponent("core").path], uniquingKeysWith: { $1 }))
            try await waitForHealth("console", port: stack.consolePort, children: children, logs: stack.logs)
        } catch {
            say("\(error); stopping")
            await children.stopAll()
            throw ExitCode(1)
        }
        try "portal-sandbox: http://127.0.0.1:\(stack.sandboxPort("portal"))\nconsole: http://127.0.0.1:\(stack.consolePort)\n".write(
            to: work.appendingPathComponent("ready"), atomically: true, encoding: .utf8)
        say(
            """
            up: core /metrics on http://127.0.0.1:\(stack.corePort)/metrics, adapters on \(stack.adapterPort("portal"))-\
            \(stack.adapterPort(LocalStack.connectors.last!)), sandboxes on \(stack.sandboxPort("portal"))-\
            \(stack.sandboxPort(LocalStack.connectors.last!)); \
            logs in \(stack.logs.path). Ctrl-C stops it all.
            console: http://127.0.0.1:\(stack.consolePort) (operator / \(stack.password(of: "console-operator")), \
            officer / \(stack.password(of: "console-officer")), viewer / \(stack.password(of: "console-viewer")); passwords kept in \(work.appendingPathComponent("passwords").path))
            """)
        let stoppedBy = await signals.next(restarting: children) { line in
            FileHandle.standardError.write(Data("govbus up: \(line)\n".utf8))
        }
        say("\(stoppedBy); stopping")
        await children.stopAll()
        try? FileManager.default.removeItem(at: work.appendingPathComponent("ready"))
    }

    func say(_ text: String) {
        FileHandle.standardError.write(Data("govbus up: \(text)\n".utf8))
    }

    /// Waits for a child's `/health`. Meanwhile any child that dies is started again, its exit
    /// noted in its log, as once the stack is up; when one has died three times, the stack does not come up.
    func waitForHealth(_ what: String, port: Int, children: ChildGroup, logs: URL) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            for line in children.restartExited() { say(line) }
            if let failing = children.diedMost(), failing.deaths >= Self.deathsBeforeGivingUp {
                let log = logs.appendingPathComponent("\(failing.name).log")
                let tail = ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").suffix(8)
                throw StackFailure(
                    description: "\(failing.name) died \(failing.deaths) times while the stack started; the end of \(log.path):\n\(tail.joined(separator: "\n"))")
            }
            if let response = try? await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(2)),
                response.status.code == 200
            {
                say("\(what) is up (:\(port))")
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw StackFailure(description: "\(what) did not answer /health on :\(port) within 90 s")
    }

    static let deathsBeforeGivingUp = 3

    /// A program named without a slash is looked for on the PATH, as a shell would.
    static func resolve(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(program)") {
            return "\(folder)/\(program)"
        }
        return program
    }

    struct StackFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// The repository: config/ and Schemas/ are read from it.
    static func repository() throws -> URL {
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("config/routes.yaml").path) { return folder }
            folder.deleteLastPathComponent()
        }
        throw ValidationError("run govbus up from the repository (config/ and Schemas/ are read from it)")
    }

    /// Passwords made once and kept in the work folder, so that a restart keeps its users.
    static func passwords(in work: URL) throws -> [String: String] {
        let file = work.appendingPathComponent("passwords")
        var passwords: [String: String] = [:]
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { passwords[String(parts[0])] = String(parts[1]) }
            }
        }
        // A user the file does not know yet (a connector added since) gets one now.
        let users = ["govbus-core", "operator-token"] + LocalStack.connectors + LocalStack.consoleAccounts.map { "console-\($0)" }
        for user in users where passwords[user] == nil {
            passwords[user] = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        }
        try SecretFile.write(Data(passwords.map { "\($0.key) \($0.value)" }.sorted().joined(separator: "\n").utf8), to: file)
        return passwords
    }

    /// The cores' PostgreSQL database: nil for SQLite; a server started with scripts/postgres
    /// (and stopped at the end) unless GOVBUS_STORE or --store names one.
    struct Database {
        var url: String?
        var startedFolder: String?

        mutating func stop(repository: URL) {
            guard let folder = startedFolder else { return }
            _ = try? ChildProcess.execute("/bin/bash", [repository.appendingPathComponent("scripts/postgres").path, "stop", folder])
            startedFolder = nil
        }
    }

    static func database(_ store: String, repository: URL) async throws -> Database {
        if store == "sqlite" { return Database() }
        if store != "postgres" { return Database(url: store) }
        if let url = ProcessInfo.processInfo.environment["GOVBUS_STORE"], url.hasPrefix("postgres") {
            return Database(url: url)
        }
        FileHandle.standardError.write(Data("govbus up: starting PostgreSQL with scripts/postgres\n".utf8))
        let outcome = try await ChildProcess.executeOffPool("/bin/bash", [repository.appendingPathComponent("scripts/postgres").path, "start"])
        guard outcome.status == 0 else {
            throw StackFailure(description: "scripts/postgres start failed: \(outcome.errors)")
        }
        var database = Database()
        for line in outcome.output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            guard assignment.count == 2 else { continue }
            if assignment[0] == "GOVBUS_STORE" { database.url = String(assignment[1]) }
            if assignment[0] == "GOVBUS_POSTGRES_DIR" { database.startedFolder = String(assignment[1]) }
        }
        return database
    }

    /// The environment's broker, or one started with scripts/broker (and stopped at the end).
    struct Broker {
        /// `host:port` of each node, the first first.
        var nodes: String
        var managementURL: String
        var startedFolder: String?

        mutating func stop(repository: URL) {
            guard let folder = startedFolder else { return }
            _ = try? ChildProcess.execute("/bin/bash", [repository.appendingPathComponent("scripts/broker").path, "stop", folder])
            startedFolder = nil
        }
    }

    static func broker(repository: URL, work: URL, cluster: Int?) async throws -> Broker {
        var environment = ProcessInfo.processInfo.environment
        var started: String?
        if cluster != nil || environment["GOVBUS_AMQP_URL"] == nil || environment["GOVBUS_MANAGEMENT_URL"] == nil {
            let nodes = cluster ?? 1
            FileHandle.standardError.write(
                Data("govbus up: starting \(nodes == 1 ? "a broker" : "a cluster of \(nodes) nodes") with scripts/broker\n".utf8))
            let outcome = try await ChildProcess.executeOffPool(
                "/bin/bash", [repository.appendingPathComponent("scripts/broker").path, "start"] + (nodes == 1 ? [] : ["--cluster", "\(nodes)"]))
            guard outcome.status == 0 else {
                throw StackFailure(description: "scripts/broker start failed: \(outcome.errors)")
            }
            for line in outcome.output.split(separator: "\n") where line.hasPrefix("export ") {
                let assignment = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
                if assignment.count == 2 { environment[String(assignment[0])] = String(assignment[1]) }
            }
            // A cluster's every node, as one list.
            if let urls = environment["GOVBUS_AMQP_URLS"] { environment["GOVBUS_AMQP_URL"] = urls }
            started = environment["GOVBUS_BROKER_DIR"]
        }
        guard let url = environment["GOVBUS_AMQP_URL"], let amqp = try? AMQPConfiguration(url: url),
            let management = environment["GOVBUS_MANAGEMENT_URL"]
        else { throw StackFailure(description: "no broker: GOVBUS_AMQP_URL and GOVBUS_MANAGEMENT_URL") }
        return Broker(
            nodes: amqp.nodes.map(\.description).joined(separator: ","), managementURL: management, startedFolder: started)
    }
}

/// The children of `govbus up`, stopped in reverse order of their start. A child that dies once
/// the stack is up is started again (its exit noted in its log), rather than stopping the stack: a
/// core killed by a message comes back, and the queue's delivery limit keeps that message away.
final class ChildGroup: Sendable {
    private struct Child: Sendable {
        let name: String
        let executable: String
        let arguments: [String]
        let environment: [String: String]?
        let log: String
        var process: ChildProcess.Running
        /// When it was last started, for the pause before starting a child that keeps dying.
        var started: ContinuousClock.Instant
        var deaths = 0
    }

    private let children = Mutex<[Child]>([])

    /// `<logs>/<name>.pid` holds each child's process id, for an operator (or a test) to signal it.
    private static func notePID(_ pid: pid_t, log: String) {
        try? "\(pid)\n".write(toFile: String(log.dropLast(".log".count)) + ".pid", atomically: true, encoding: .utf8)
    }

    func start(
        _ name: String, _ executable: String, _ arguments: [String], logs: URL, environment: [String: String]? = nil
    ) throws {
        let log = logs.appendingPathComponent("\(name).log").path
        let process = try ChildProcess.start(executable, arguments, environment: environment, errors: log, output: log)
        Self.notePID(process.pid, log: log)
        Self.note("started \(name), process \(process.pid)", in: log)
        children.withLock {
            $0.append(
                Child(
                    name: name, executable: executable, arguments: arguments, environment: environment, log: log,
                    process: process, started: .now))
        }
    }

    /// The child that has died most often since the stack started, if one has died.
    func diedMost() -> (name: String, deaths: Int)? {
        children.withLock { children in
            children.max { $0.deaths < $1.deaths }.flatMap { $0.deaths > 0 ? ($0.name, $0.deaths) : nil }
        }
    }

    /// Notes in a child's log what `govbus up` did to it: the log then exists and tells its story
    /// even when the child itself wrote nothing (a signal, a failed start).
    private static func note(_ line: String, in log: String) {
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: log) else { return }
        handle.seekToEndOfFile()
        handle.write(Data("govbus up: \(line)\n".utf8))
        try? handle.close()
    }

    /// Starts again every child that has exited, noting how it ended in its log; returns what it did.
    func restartExited() -> [String] {
        children.withLock { children in
            var said: [String] = []
            for index in children.indices {
                var status: Int32 = 0
                guard waitpid(children[index].process.pid, &status, WNOHANG) == children[index].process.pid else { continue }
                let child = children[index]
                children[index].deaths += 1
                let ended = (status & 0x7f) == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f)"
                Self.note("\(child.name) \(ended); starting it again", in: child.log)
                // A child that dies within seconds of its start waits a little before the next.
                if ContinuousClock.now - child.started < .seconds(5) { Thread.sleep(forTimeInterval: 1) }
                do {
                    children[index].process = try ChildProcess.start(
                        child.executable, child.arguments, environment: child.environment, errors: child.log, output: child.log)
                    Self.notePID(children[index].process.pid, log: child.log)
                    Self.note("started \(child.name) again, process \(children[index].process.pid)", in: child.log)
                    children[index].started = .now
                    said.append("\(child.name) \(ended); started again")
                } catch {
                    said.append("\(child.name) \(ended) and cannot start again: \(error)")
                }
            }
            return said
        }
    }

    func stopAll() async {
        for child in children.withLock({ $0 }).reversed() {
            child.process.send(signal: SIGTERM)
            if (try? await child.process.exitStatus(within: .seconds(15))) == nil { child.process.stop() }
        }
    }
}

/// SIGINT and SIGTERM as events, instead of the default of dying at once.
final class SignalWatcher: @unchecked Sendable {
    // @unchecked: `sources` is set once and only keeps the dispatch sources alive.
    private let sources: [any DispatchSourceSignal]
    private let received = AsyncStream.makeStream(of: Int32.self)

    init(_ signals: [Int32]) {
        let continuation = received.continuation
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// What stopped the stack: a signal. Meanwhile, children that exit are started again.
    func next(restarting children: ChildGroup, say: @escaping @Sendable (String) -> Void) async -> String {
        await withTaskGroup(of: String.self) { group in
            group.addTask { [received] in
                for await number in received.stream { return number == SIGINT ? "interrupted" : "terminated" }
                return "stopped"
            }
            group.addTask {
                while !Task.isCancelled {
                    for line in children.restartExited() { say(line) }
                    try? await Task.sleep(for: .seconds(1))
                }
                return "stopped"
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }
}
