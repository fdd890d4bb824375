import AMQP
import AMQPTesting
import Foundation
import Glibc
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// `govbus core` as an operator runs it.
@Suite("govbus core")
struct CoreCommandTests {
    static let root = CoreFixtures.repository
    static let binary = root.appendingPathComponent(".build/debug/govbus").path

    /// A folder with a core.yaml and copies of the sample routes and procedures.
    func configFolder(amqpURL: String, coreYAML: String? = nil, routes: String? = nil, telemetry: String = "off") throws -> URL {
        // (Used by the crash test too.)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("core-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let yaml = coreYAML ?? """
            amqpUrl: \(amqpURL)
            routes: routes.yaml
            procedures: procedures.yaml
            schemas: \(Self.root.appendingPathComponent("Schemas").path)
            data: data
            drainTimeout: 5s
            telemetry: \(telemetry)
            """
        try yaml.write(to: folder.appendingPathComponent("core.yaml"), atomically: true, encoding: .utf8)
        let sampleRoutes = try String(contentsOf: Self.root.appendingPathComponent("config/routes.yaml"), encoding: .utf8)
        try (routes ?? sampleRoutes).write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: Self.root.appendingPathComponent("config/procedures.yaml"), to: folder.appendingPathComponent("procedures.yaml"))
        return folder
    }

    @Test("A bad configuration stops the core with exit 2, naming the file and the line")
    func badConfiguration() async throws {
        let unknownKey = try configFolder(amqpURL: "amqp://localhost", coreYAML: "amqpUrl: amqp://localhost\nroutes: routes.yaml\nfrobnicate: yes\n")
        var outcome = try await TestBroker.execute(
            Self.binary, ["core", "--config", unknownKey.appendingPathComponent("core.yaml").path], environment: ["GOVBUS_AMQP_URL": ""])
        #expect(outcome.status == 2)
        #expect(outcome.errors.contains("core.yaml:3: unknown key 'frobnicate'"), "\(outcome.errors)")

        let badRoutes = try configFolder(
            amqpURL: "amqp://localhost", routes: "adapters:\n  portal:\n    keys: {k: nope}\n")
        outcome = try await TestBroker.execute(Self.binary, ["core", "--config", badRoutes.appendingPathComponent("core.yaml").path])
        #expect(outcome.status == 2)
        #expect(outcome.errors.contains("routes.yaml:3:"), "\(outcome.errors)")
    }

    struct NoFreePort: Error {}

    /// A TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw NoFreePort() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("govbus config diff: one line a change against the core's files; a broken file named with its line, exit 2")
    func configDiff() async throws {
        let folder = try configFolder(amqpURL: "amqp://localhost")
        let core = folder.appendingPathComponent("core.yaml").path
        let sample = try String(contentsOf: folder.appendingPathComponent("routes.yaml"), encoding: .utf8)
        let changed = folder.appendingPathComponent("routes-new.yaml")
        let rule = """
            rules:
              - type: document.issue-requested.v1
                when: {communeCode: "00006"}
                to: document
            """
        try sample.replacingOccurrences(of: "rules: []", with: rule).write(to: changed, atomically: true, encoding: .utf8)
        var outcome = try await TestBroker.execute(Self.binary, ["config", "diff", "--config", core, changed.path])
        #expect(outcome.status == 0, "\(outcome.errors)")
        #expect(outcome.output == "+ rule document.issue-requested.v1 where communeCode in [00006] → document\n", "\(outcome.output)")
        outcome = try await TestBroker.execute(
            Self.binary, ["config", "diff", "--config", core, folder.appendingPathComponent("routes.yaml").path])
        #expect(outcome.output == "no change\n")
        let broken = folder.appendingPathComponent("routes-broken.yaml")
        try "adapters:\n  portal:\n    keys: {}\n    publishes: [no.such.type.v1]\n    receives: []\n".write(
            to: broken, atomically: true, encoding: .utf8)
        outcome = try await TestBroker.execute(Self.binary, ["config", "diff", "--config", core, broken.path])
        #expect(outcome.status == 2)
        #expect(outcome.errors.contains("routes-broken.yaml:4:"), "\(outcome.errors)")
    }

    @Test("A running core serves /health and /metrics; SIGTERM stops it with exit 0")
    func gracefulStop() async throws {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await CoreTopologyTests.freshVhost(broker)
        let url = broker.url(user: "guest", password: "guest", vhost: vhost)
        let port = try Self.freePort()
        let folder = try configFolder(amqpURL: url, telemetry: "127.0.0.1:\(port)")
        // The environment's broker would win over the file's: point it at this test's vhost.
        let core = try ChildProcess.start(
            Self.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
            // Sandbox mode: the sample routes.yaml trusts the sandbox's public keys.
            environment: ["GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow"])
        // Running once it has declared its queue.
        let connection = try await AMQPConnection.connect(url: url)
        // A minute: the core compiles the schema catalogue at start, on a machine the other tests load.
        let deadline = ContinuousClock.now + .seconds(60)
        var running = false
        while !running, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            running = (try? await connection.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }
        #expect(running, "the core did not start consuming: \(core.output)")
        // The telemetry server starts beside the consumers, a moment after them on a busy machine.
        var health = try await TestBroker.execute("/usr/bin/curl", ["-s", "-w", "\\n%{http_code}", "http://127.0.0.1:\(port)/health"])
        for _ in 0..<50 where !health.output.hasSuffix("\n200") {
            try await Task.sleep(for: .milliseconds(200))
            health = try await TestBroker.execute("/usr/bin/curl", ["-s", "-w", "\\n%{http_code}", "http://127.0.0.1:\(port)/health"])
        }
        #expect(health.output.hasSuffix("\n200"), "\(health.output) \(health.errors)")
        #expect(health.output.contains(#""status":"up""#))
        let metrics = try await TestBroker.execute("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"])
        #expect(metrics.output.contains(#"govbus_core_dossiers{state="completed"} 0"#), "\(metrics.output)")
        core.send(signal: SIGTERM)
        let status = try await core.exitStatus(within: .seconds(15))
        #expect(status == 0, "\(core.output)")
        if status == nil { core.stop() }
        await connection.close()
        try await broker.rabbitmqctl("delete_vhost", vhost)
    }
}
