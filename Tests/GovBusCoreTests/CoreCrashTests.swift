@testable import GovBusStore
import AMQP
import AMQPTesting
import Foundation
import GovBusContracts
import GRDB
import Glibc
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// The delivery rules under a crash: `govbus core` killed with SIGKILL in the middle of many
/// dossiers, then started again on the same data.
@Suite("The core survives SIGKILL")
struct CoreCrashTests {
    static let dossierCount = Int(ProcessInfo.processInfo.environment["GOVBUS_CRASH_TEST_DOSSIERS"] ?? "") ?? 1000

    @Test("Dossiers driven by test adapters all reach their end, nothing is lost, the audit chain verifies")
    func killAndRestart() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let config = folder.appendingPathComponent("core.yaml").path
        func startCore() throws -> ChildProcess.Running {
            // Sandbox mode: the test adapters sign with the sandbox's public keys.
            try ChildProcess.start(
                CoreCommandTests.binary, ["core", "--config", config], environment: ["GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow"])
        }
        var core = try startCore()
        // The core declares the topology; wait for its consumer before submitting.
        let watcher = try await AMQPConnection.connect(url: url)
        try await waitUntil("the core consumes") {
            (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }

        let statuses = DossierEndToEndTests.Statuses()
        let adapters = Task { try await DossierEndToEndTests.runTestAdapters(bus.test, statuses: statuses) }
        let started = ContinuousClock.now
        let dossiers = try await bus.submitSampleDossiers(Self.dossierCount)
        func completed() -> Int { statuses.all.values.filter { $0.last == .completed }.count }

        // Kill it once a third of the dossiers are done, and start it again on the same data.
        try await waitUntil("a third of the dossiers completed") { completed() >= dossiers.count / 3 }
        core.send(signal: SIGKILL)
        #expect(try await core.exitStatus(within: .seconds(10)) == 128 + SIGKILL)
        let completedAtKill = completed()
        core = try startCore()
        try await waitUntil("every dossier completed (\(completed()) of \(dossiers.count))", within: .seconds(600)) {
            completed() == dossiers.count
        }
        let elapsed = ContinuousClock.now - started
        print(
            "crash test: \(dossiers.count) dossiers, killed at \(completedAtKill) completed, all completed after \(elapsed); \(statuses.duplicates) duplicate statuses dropped by message id")

        let seen = statuses.all
        for id in dossiers {
            #expect(
                seen[id] == [.submitted, .identityVerified, .feeRequested, .feePaid, .documentIssued, .completed],
                "\(id): \(seen[id] ?? [])")
        }
        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)
        let verify = try await TestBroker.execute(
            CoreCommandTests.binary,
            ["audit", "verify", "--database", folder.appendingPathComponent("data/audit.sqlite").path])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(try await watcher.inspectQueue(CoreTopology.deadLetterQueue).messageCount == 0)

        adapters.cancel()
        await watcher.close()
        try await bus.tearDown()
    }

    @Test("A batch killed between its sync and its acks comes back: nothing lost, no effect twice")
    func killBetweenSyncAndAcks() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let config = folder.appendingPathComponent("core.yaml").path
        func startCore(killingAfterSync: Bool) throws -> ChildProcess.Running {
            try ChildProcess.start(
                CoreCommandTests.binary, ["core", "--config", config],
                environment: [
                    "GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow",
                    "GOVBUS_TEST_KILL_AFTER_SYNC": killingAfterSync ? "1" : "",
                ])
        }
        let watcher = try await AMQPConnection.connect(url: url)
        // A first run declares the topology; the dossiers then wait in the core's queue, so that
        // the next run takes them in batches.
        var core = try startCore(killingAfterSync: false)
        try await waitUntil("the core consumes") {
            (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }
        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)
        let dossiers = try await bus.submitSampleDossiers(300)

        core = try startCore(killingAfterSync: true)
        #expect(try await core.exitStatus(within: .seconds(60)) == 128 + SIGKILL)
        core = try startCore(killingAfterSync: false)

        // Each dossier's identity request reaches the registry; a copy, if any, has the same id.
        let registry = bus.test.connections["registry"]!
        let inbox = try await registry.consume(queue: CoreTopology.inbox(of: bus.test.names["registry"]!))
        var requests: [String: Set<String>] = [:]
        var deliveries = 0
        let deadline = ContinuousClock.now + .seconds(120)
        for try await delivery in inbox {
            let request = try IdentityVerificationRequestedV1(jsonBody: Data(delivery.body))
            requests[request.dossierId, default: []].insert(delivery.properties.messageID ?? "")
            deliveries += 1
            delivery.ack()
            if requests.count == dossiers.count || ContinuousClock.now > deadline { break }
        }
        await inbox.cancel()
        #expect(requests.count == dossiers.count, "\(requests.count) of \(dossiers.count) dossiers reached the registry")
        #expect(requests.values.allSatisfy { $0.count == 1 }, "a dossier got two different identity requests")
        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)

        // One transition per dossier, one audit record per message: the batch's redelivery changed nothing.
        let data = folder.appendingPathComponent("data")
        let transitions = try await DatabaseQueue(path: data.appendingPathComponent("dossiers.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM transition") ?? 0
        }
        #expect(transitions == dossiers.count)
        let audited = try await DatabaseQueue(path: data.appendingPathComponent("audit.sqlite").path).read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit_record WHERE type = ?", arguments: [DossierSubmittedV1.messageType]) ?? 0
        }
        #expect(audited == dossiers.count)
        let verify = try await TestBroker.execute(
            CoreCommandTests.binary, ["audit", "verify", "--database", data.appendingPathComponent("audit.sqlite").path])
        #expect(verify.status == 0, "\(verify.output)")
        #expect(try await watcher.inspectQueue(CoreTopology.deadLetterQueue).messageCount == 0)
        print("kill after sync: \(deliveries) identity requests delivered for \(dossiers.count) dossiers")
        await watcher.close()
        try await bus.tearDown()
    }

    func waitUntil(
        _ what: @autoclosure () -> String, within limit: Duration = .seconds(120), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("waited \(limit) for \(what())")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

@Suite("An operator's decision on a dossier in needs-attention")
struct OperatorDecisionTests {
    @Test("A step that times out for the last time waits in needs-attention; the operator's retry asks again, with the token only")
    func retryFromNeedsAttention() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let port = try CoreCommandTests.freePort()
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText, telemetry: "127.0.0.1:\(port)")
        // The registry never answers here: its step times out after 1 s, once.
        let procedures = try String(contentsOf: folder.appendingPathComponent("procedures.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "identity: 2m", with: "identity: 1s").replacingOccurrences(of: "maxAttempts: 3", with: "maxAttempts: 1")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("procedures.yaml"))
        try procedures.write(to: folder.appendingPathComponent("procedures.yaml"), atomically: true, encoding: .utf8)
        let token = "test-operator-token-0123456789-abcdef"
        let core = try ChildProcess.start(
            CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
            environment: ["GOVBUS_AMQP_URL": url, "GOVBUS_OPERATOR_TOKEN": token, "GOVBUS_SANDBOX_KEYS": "allow"])
        defer { core.stop() }
        let watcher = try await AMQPConnection.connect(url: url)
        try await CoreCrashTests().waitUntil("the core consumes") { (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1 }

        var dossier = CoreFixtures.dossier
        dossier.procedure = Procedure(code: "1.001193", name: "Đăng ký khai sinh")
        dossier.feeItems = []
        try await bus.test.send(dossier, as: "portal", dossier: dossier.dossierId)
        let registryInbox = CoreTopology.inbox(of: bus.test.names["registry"]!)
        let portalInbox = CoreTopology.inbox(of: bus.test.names["portal"]!)
        // submitted, then needs-attention once the only try timed out.
        try await CoreCrashTests().waitUntil("needs-attention reaches the portal") {
            (try? await watcher.inspectQueue(portalInbox).messageCount) == 2
        }
        #expect(try await watcher.inspectQueue(registryInbox).messageCount == 1)

        let endpoint = "http://127.0.0.1:\(port)/operator/dossiers/\(dossier.dossierId)/retry"
        let refused = try await TestBroker.execute(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", endpoint, "-d", #"{"operator":"lan"}"#])
        #expect(refused.output == "401")
        let retried = try await TestBroker.execute(
            "/usr/bin/curl",
            [
                "-s", "-X", "POST", endpoint, "-H", "Authorization: Bearer \(token)", "-H", "GovBus-Operator: lan", "-d",
                #"{"operator":"mallory","reason":"registry back"}"#,
            ])
        #expect(retried.output.contains(#""state":"awaiting-identity""#), "\(retried.output) \(retried.errors)")
        // The registry is asked again.
        try await CoreCrashTests().waitUntil("the registry is asked again") { (try? await watcher.inspectQueue(registryInbox).messageCount) == 2 }
        await watcher.close()
        core.send(signal: SIGTERM)
        _ = try await core.exitStatus(within: .seconds(15))
        let audit = try AuditLog(path: folder.appendingPathComponent("data/audit.sqlite").path)
        let action = try audit.records(correlationID: dossier.dossierId).first { $0.kind == .operatorAction }
        #expect(action?.sender == "lan")
        #expect(action?.type == "operator.dossier.retried")
        try await bus.tearDown()
    }
}
