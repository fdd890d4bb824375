import AMQP
import GovBusProcesses
import Foundation

/// `govbus bench core-cost`: the CPU instructions one `govbus core` spends per routed message,
/// counted by valgrind's callgrind over the routing of N messages (every check on, all threads of
/// the process), next to the instructions of one Ed25519 verification in the same profile.
/// Instruction counts do not depend on the machine's load, so the figure holds from run to run
/// where a throughput does not.
///
/// The core runs under callgrind on a vhost of its own (as in `bench core`). After a warm-up its
/// counters are zeroed (`callgrind_control -z`), N messages go through it, and the profile is
/// dumped (`callgrind_control -d`) once the receiver has them all. The breakdown is callgrind's
/// inclusive cost of the functions that make up each part of the work.
public enum CoreCostBenchmark {
    public struct Options: Sendable {
        public var core: CoreBenchmark.Options
        /// Messages counted (after `warmUp` messages not counted).
        public var messages: Int
        public var warmUp: Int
        /// Where to keep the profile (nil: deleted with the bench's folder).
        public var profile: String?

        public init(core: CoreBenchmark.Options, messages: Int = 2_000, warmUp: Int = 300, profile: String? = nil) {
            self.core = core
            self.messages = messages
            self.warmUp = warmUp
            self.profile = profile
        }
    }

    public struct Result: Codable, Sendable {
        public let messages: Int
        public let instructionsPerMessage: Double
        /// One Ed25519 verification (`Curve25519.Signing.PublicKey.isValidSignature`, which is
        /// BoringSSL's `ED25519_verify`), from the same profile: every message is verified once.
        public let signatureVerificationInstructions: Double
        /// `instructionsPerMessage` over `signatureVerificationInstructions`.
        public let ratioToOneVerification: Double
        /// Instructions per message by part of the work (callgrind's inclusive costs; parts nest).
        public let breakdown: [Part]

        public struct Part: Codable, Sendable {
            public let part: String
            public let instructionsPerMessage: Double
            public let share: Double

            enum CodingKeys: String, CodingKey {
                case part
                case instructionsPerMessage = "instructions_per_msg"
                case share
            }
        }

        enum CodingKeys: String, CodingKey {
            case messages
            case instructionsPerMessage = "instructions_per_msg"
            case signatureVerificationInstructions = "ed25519_verify_instructions"
            case ratioToOneVerification = "ratio_to_one_verify"
            case breakdown
        }
    }

    /// The parts of the work, each the functions (demangled names, by prefix) whose inclusive
    /// costs add up to it. The signature verification comes first: the figure it is measured against.
    static let parts: [(name: String, functions: [String])] = [
        ("Ed25519 verification (BoringSSL)", ["CCryptoBoringSSL_ED25519_verify"]),
        ("signature check (canonical form, base64, Ed25519)", ["SignatureVerifier.verify("]),
        ("stage 0: the batch's signatures, side by side", ["CoreRouter.verifyingSignatures("]),
        ("stage 1: checks, dedup, audit, outputs", ["CoreRouter.take("]),
        ("  ingress checks but the signature (envelope, JSON, schema)", ["IngressChecks.check("]),
        ("    JSON reading", ["JSONReader.value(from:"]),
        ("    schema validation", ["JSONSchema.validate("]),
        ("  audit log (hash chain, records)", ["AuditLog.append("]),
        ("  dedup ledger", ["MessageLedger.handled("]),
        ("stage 2: confirms, ledger, acks", ["CoreRouter.settle("]),
        ("SQLite (all statements)", ["sqlite3_step", "sqlite3_prepare_v2"]),
        ("AMQP connection thread", ["ConnectionDriver.run("]),
    ]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ options: Options, progress: @escaping @Sendable (String) -> Void) async throws -> Result {
        for tool in ["/usr/bin/valgrind", "/usr/bin/callgrind_control", "/usr/bin/callgrind_annotate", "/usr/bin/objcopy"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw Failure(description: "\(tool) is missing: apt-get install valgrind")
        }
        guard let schemas = TransportBenchmark.locateRepositoryFile("Schemas"),
            let procedures = TransportBenchmark.locateRepositoryFile("config/procedures.yaml")
        else { throw Failure(description: "cannot find Schemas/ and config/: run from the repository") }
        let bus = try await BenchBus.provision(options.core, progress: progress)
        defer { Task { try? await bus.remove() } }
        let profiles = bus.folder.appendingPathComponent("callgrind")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
        let wrapper = [
            "/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=\(profiles.path)/callgrind.out.%p",
        ]
        // Valgrind 3.19 cannot read the DWARF 5 that Swift writes: the core runs from a copy without
        // it (the symbol table, which names the functions, stays).
        let executable = bus.folder.appendingPathComponent("govbus-without-debug-info").path
        try ChildProcess.run("/usr/bin/objcopy", ["--strip-debug", options.core.govbusExecutable, executable])
        progress("starting the core under callgrind (slow: a minute or two)")
        let cores = try await bus.startCores(
            1, store: nil, executable: executable, schemas: schemas, procedures: procedures,
            wrapper: wrapper, extraEnvironment: ["GOVBUS_MAIN_THREAD_WAITS": "1"], startupLimit: .seconds(600),
            progress: progress)
        guard let core = cores.first else { throw Failure(description: "no core started") }
        defer { core.stop() }
        var slow = options.core
        slow.window = 64

        progress("warm-up: \(options.warmUp) messages, not counted")
        _ = try await bus.runCore(messages: options.warmUp, options: slow, rate: nil, within: .seconds(600))
        try ChildProcess.run("/usr/bin/callgrind_control", ["-z", "\(core.pid)"])
        progress("counting \(options.messages) messages")
        _ = try await bus.runCore(messages: options.messages, options: slow, rate: nil, within: .seconds(1200))
        try ChildProcess.run("/usr/bin/callgrind_control", ["-d", "\(core.pid)"])

        let dumps = try FileManager.default.contentsOfDirectory(atPath: profiles.path)
            .filter { $0.hasPrefix("callgrind.out.\(core.pid)") && $0 != "callgrind.out.\(core.pid)" }
            .sorted()
        guard let dump = dumps.last.map({ profiles.appendingPathComponent($0).path }) else {
            throw Failure(description: "callgrind wrote no profile in \(profiles.path)")
        }
        if let keep = options.profile {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: dump, toPath: keep)
            progress("profile kept in \(keep) (callgrind_annotate --inclusive=yes \(keep) | swift demangle)")
        }
        return try summarize(profile: dump, messages: options.messages)
    }

    /// The totals and the inclusive cost of each part, per message.
    static func summarize(profile: String, messages: Int) throws -> Result {
        let annotated = try ChildProcess.run(
            "/usr/bin/callgrind_annotate", ["--inclusive=yes", "--threshold=100", profile])
        let lines = try demangled(annotated).split(separator: "\n")
        guard let totalLine = lines.first(where: { $0.contains("PROGRAM TOTALS") }),
            let total = leadingCount(totalLine)
        else { throw Failure(description: "callgrind_annotate printed no program totals") }
        // function name → its largest inclusive cost (a name may appear for several objects).
        var inclusive: [(name: Substring, cost: Double)] = []
        for line in lines {
            guard let cost = leadingCount(line), let separator = line.firstIndex(of: ":") else { continue }
            inclusive.append((line[line.index(after: separator)...], cost))
        }
        func cost(of prefixes: [String]) -> Double {
            prefixes.reduce(0) { sum, prefix in
                sum + (inclusive.filter { Self.name($0.name, startsWith: prefix) }.map(\.cost).max() ?? 0)
            }
        }
        let perMessage = total / Double(messages)
        let verification = cost(of: parts[0].functions) / Double(messages)
        return Result(
            messages: messages, instructionsPerMessage: perMessage, signatureVerificationInstructions: verification,
            ratioToOneVerification: verification > 0 ? perMessage / verification : 0,
            breakdown: parts.map { part in
                let instructions = cost(of: part.functions) / Double(messages)
                return .init(part: part.name, instructionsPerMessage: instructions, share: instructions / perMessage)
            })
    }

    /// Whether a demangled function, with its module and type path, names `prefix` (the module
    /// name and generic parameters aside).
    /// Callgrind marks a function inside a cycle (recursion, or async code resumed from the
    /// executor) with `'N`; its inclusive cost counts the cycle over and over, so it is left out.
    static func name(_ function: Substring, startsWith prefix: String) -> Bool {
        let name = function.split(separator: " [").first.map(String.init) ?? String(function)
        if let mark = name.lastIndex(of: "'"), name[name.index(after: mark)...].allSatisfy(\.isNumber) { return false }
        return name.hasPrefix(prefix) || name.contains("." + prefix) || name.contains(" " + prefix)
    }

    /// "1,234,567 (12.34%)  file:function" → 1234567.
    static func leadingCount(_ line: Substring) -> Double? {
        let first = line.drop { $0 == " " }.prefix { $0.isNumber || $0 == "," }
        guard !first.isEmpty else { return nil }
        return Double(first.filter(\.isNumber))
    }

    /// Swift's names demangled, through the toolchain's `swift-demangle` when there is one.
    static func demangled(_ text: String) throws -> String {
        let candidates = ["/usr/bin/swift-demangle"] + (ProcessInfo.processInfo.environment["PATH"] ?? "")
            .split(separator: ":").map { "\($0)/swift-demangle" }
        guard let tool = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else { return text }
        return try ChildProcess.run(tool, ["--simplified"], input: Data(text.utf8))
    }
}
