import AMQP
import AMQPTesting
import Foundation
import GovBusContracts
import GovBusStore
import Glibc
import StoreTesting
import Testing

@testable import GovBusCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two `govbus core` processes on one PostgreSQL store, the core's ingress in partitions: they
/// share the dossiers, and when one is killed the other takes its partitions over.
@Suite("Several cores on PostgreSQL")
struct SeveralCoresTests {
    static let dossierCount = Int(ProcessInfo.processInfo.environment["GOVBUS_CRASH_TEST_DOSSIERS"] ?? "") ?? 1000
    static let partitions = 8

    @Test("1,000 dossiers through 2 cores, one SIGKILLed mid-run: each ends with exactly its statuses; the audit verifies")
    func killOneOfTwo() async throws {
        let bus = try await TestBus.make()
        let store = try await TestStore.postgres.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let config = folder.appendingPathComponent("core.yaml").path
        // On 2 busy cores, one process may come up seconds after the other: a wide standby delay
        // still lets each register first on its own half.
        let yaml = try String(contentsOfFile: config, encoding: .utf8)
        try (yaml + "\nstandbyDelay: 15s\n").write(toFile: config, atomically: true, encoding: .utf8)
        func startCore(_ index: Int) throws -> ChildProcess.Running {
            try ChildProcess.start(
                CoreCommandTests.binary, ["core", "--config", config],
                environment: [
                    "GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_STORE": TestStore.url(of: store),
                    "GOVBUS_CORE_PARTITIONS": "\(Self.partitions)", "GOVBUS_CORE_INSTANCE": "\(index)/2",
                    "GOVBUS_DATA_DIR": folder.appendingPathComponent("data-\(index)").path,
                ])
        }
        let cores = [try startCore(0), try startCore(1)]
        let consumers = ConsumerWatch(broker: bus.broker, vhost: bus.vhost)
        try await waitUntil("both cores consume every partition") {
            let seen = try await consumers.partitions()
            return seen.count == Self.partitions && seen.values.allSatisfy { $0.count == 2 }
        }
        // Started together, they share the partitions: each is the active consumer of its half.
        let activeConnections = Set(try await consumers.partitions().values.compactMap { $0.first(where: \.active)?.connection })
        #expect(activeConnections.count == 2, "active consumers on \(activeConnections)")

        let statuses = DossierEndToEndTests.Statuses()
        let adapters = Task { try await DossierEndToEndTests.runTestAdapters(bus.test, statuses: statuses) }
        let started = ContinuousClock.now
        let dossiers = try await bus.submitSampleDossiers(Self.dossierCount)
        func completed() -> Int { statuses.all.values.filter { $0.last == .completed }.count }

        try await waitUntil("a third of the dossiers completed", within: .seconds(300)) { completed() >= dossiers.count / 3 }
        cores[0].send(signal: SIGKILL)
        let killed = ContinuousClock.now
        #expect(try await cores[0].exitStatus(within: .seconds(10)) == 128 + SIGKILL)
        let completedAtKill = completed()
        // Every partition is served again by the core that is left.
        try await waitUntil("the other core takes every partition", within: .seconds(30)) {
            let seen = try await consumers.partitions()
            return seen.count == Self.partitions && seen.values.allSatisfy { $0.count == 1 && $0[0].active }
        }
        let takeover = ContinuousClock.now - killed
        try await waitUntil("every dossier completed (\(completed()) of \(dossiers.count))", within: .seconds(600)) {
            completed() == dossiers.count
        }
        print(
            "several cores: \(dossiers.count) dossiers through 2 cores on PostgreSQL, \(Self.partitions) partitions; one killed at \(completedAtKill) completed; its partitions served again within \(takeover) (measured through the management API); all completed after \(ContinuousClock.now - started); \(statuses.duplicates) duplicate statuses dropped by message id")

        let seen = statuses.all
        for id in dossiers {
            #expect(
                seen[id] == [.submitted, .identityVerified, .feeRequested, .feePaid, .documentIssued, .completed],
                "\(id): \(seen[id] ?? [])")
        }
        cores[1].send(signal: SIGTERM)
        #expect(try await cores[1].exitStatus(within: .seconds(20)) == 0)
        let verify = try await TestBroker.execute(
            CoreCommandTests.binary, ["audit", "verify", "--store", TestStore.url(of: store)])
        #expect(verify.status == 0, "\(verify.output) \(verify.errors)")
        let watcher = try await AMQPConnection.connect(url: url)
        #expect(try await watcher.inspectQueue(CoreTopology.deadLetterQueue).messageCount == 0)
        await watcher.close()
        adapters.cancel()
        try await bus.tearDown()
    }

    func waitUntil(
        _ what: @autoclosure () -> String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws {
        try await CoreCrashTests().waitUntil(what(), within: limit, condition)
    }
}

/// The consumers of the core's partitions, from the management API: which connection (by its
/// client port) consumes each, and whether it is the single active one.
struct ConsumerWatch {
    let broker: TestBroker
    let vhost: String

    struct Consumer: Hashable {
        let connection: Int
        let active: Bool
    }

    func partitions() async throws -> [String: [Consumer]] {
        guard var components = URLComponents(string: broker.managementURL) else { return [:] }
        let user = components.user ?? "guest"
        let password = components.password ?? "guest"
        components.user = nil
        components.password = nil
        components.percentEncodedPath = "/api/consumers/" + (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        var request = URLRequest(url: components.url!)
        request.setValue("Basic " + Data("\(user):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let list = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { return [:] }
        var found: [String: [Consumer]] = [:]
        for entry in list {
            guard let queue = (entry["queue"] as? [String: Any])?["name"] as? String,
                queue.hasPrefix(CoreTopology.coreQueue + "."),
                let port = (entry["channel_details"] as? [String: Any])?["peer_port"] as? Int
            else { continue }
            found[queue, default: []].append(Consumer(connection: port, active: entry["active"] as? Bool ?? false))
        }
        return found
    }
}
