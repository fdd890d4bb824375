import AMQP
import AMQPTesting
import CoreTestFixtures
import Foundation
import GovBusStore
import Glibc
import StoreTesting
import Testing

@testable import GovBusCore

/// A running `govbus core` takes new routes and keys on SIGHUP, without a restart; a broken file
/// changes nothing and says why.
@Suite("Configuration reloaded while the core runs")
struct ConfigurationReloadTests {
    @Test("SIGHUP: a routes change that adds an adapter and its key goes live; a broken file changes nothing and names its line")
    func reloadOnHangUp() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let data = folder.appendingPathComponent("data")
        let logFile = folder.appendingPathComponent("core.log").path
        let core = try ChildProcess.start(
            CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
            environment: ["GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_DATA_DIR": data.path],
            errors: logFile)
        /// What the core logged so far.
        var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        let watcher = try await AMQPConnection.connect(url: url)
        try await waitUntil("the core consumes") {
            (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }
        func submit(_ number: Int) async throws {
            var dossier = CoreFixtures.dossier
            dossier.dossierId = String(format: "H01.04-251121-%04d", number)
            try await bus.test.send(dossier, as: "portal", dossier: dossier.dossierId)
        }

        // Version 2: an archive that receives every submitted dossier, with a key of its own.
        let archive = "archive-\(bus.suffix)"
        let archiveKey = try CoreFixtures.sandboxSigner("archive").publicKey.rawRepresentation.base64EncodedString()
        let routes = folder.appendingPathComponent("routes.yaml")
        try (bus.routesText + """
              \(archive):
                keys: {archive-1: \(archiveKey)}
                publishes: []
                receives: [portal.dossier.submitted.v1]

            """).write(to: routes, atomically: true, encoding: .utf8)
        core.send(signal: SIGHUP)
        try await waitUntil("the core reloads: \(log)") { log.contains("configuration reloaded") }
        #expect(log.contains("+ adapter \(archive)"), "\(log)")
        #expect(log.contains("+ key archive-1 of \(archive)"), "\(log)")
        try await submit(1)
        try await waitUntil("the archive's inbox gets the dossier") {
            (try? await watcher.inspectQueue(CoreTopology.inbox(of: archive)).messageCount) == 1
        }

        // A broken version: an unknown type. The core says which file and line, and keeps version 2.
        try (bus.routesText + """
              \(archive):
                keys: {archive-1: \(archiveKey)}
                publishes: []
                receives: [portal.dossier.no-such-type.v1]

            """).write(to: routes, atomically: true, encoding: .utf8)
        core.send(signal: SIGHUP)
        try await waitUntil("the core refuses the broken file: \(log)") {
            log.contains("configuration not reloaded")
        }
        #expect(log.contains("routes.yaml:"), "\(log)")
        try await submit(2)
        try await waitUntil("version 2 still routes") {
            (try? await watcher.inspectQueue(CoreTopology.inbox(of: archive)).messageCount) == 2
        }
        #expect(try await core.exitStatus(within: .milliseconds(10)) == nil, "the core stopped: \(log)")

        // The change is in the audit log, with its diff.
        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)
        let audit = try AuditLog(.sqlite(folder: data), readOnly: true)
        let changes = try audit.records(correlationID: "configuration")
        #expect(changes.count == 1)
        #expect(changes.first?.type == "operator.configuration.applied")
        #expect(changes.first?.sender == "SIGHUP")
        #expect(changes.first?.body.map { String(decoding: $0, as: UTF8.self) }?.contains("+ adapter \(archive)") == true)
        #expect(try audit.verify().firstBroken == nil)
        if let took = log.split(separator: "\n").first(where: { $0.contains("configuration reloaded") }) {
            print("reload: \(took.split(separator: " ").filter { $0.hasPrefix("took=") }.joined())")
        }
        await watcher.close()
        try await bus.tearDown()
    }

    @Test("govbus config apply: new routes go live on the running core under the operator's name; a broken file changes nothing")
    func applyUnderOperatorName() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let data = folder.appendingPathComponent("data")
        let logFile = folder.appendingPathComponent("core.log").path
        let environment = ["GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_DATA_DIR": data.path]
        let core = try ChildProcess.start(
            CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
            environment: environment, errors: logFile)
        var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        try await waitUntil("the core runs version 1: \(log)") { log.contains("configuration version in force") }
        func apply(_ text: String) async throws -> ChildProcess.Outcome {
            let file = folder.appendingPathComponent("new-routes.yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            return try await TestBroker.execute(
                CoreCommandTests.binary,
                ["config", "apply", "--config", folder.appendingPathComponent("core.yaml").path, "--operator", "lan", file.path],
                environment: environment)
        }

        let broken = try await apply("adapters:\n  portal:\n    keys: {k: nope}\n")
        #expect(broken.status == 2)
        #expect(broken.errors.contains("new-routes.yaml:3:"), "\(broken.errors)")
        #expect(try String(contentsOf: folder.appendingPathComponent("routes.yaml"), encoding: .utf8) == bus.routesText)

        let archive = "archive-\(bus.suffix)"
        let archiveKey = try CoreFixtures.sandboxSigner("archive").publicKey.rawRepresentation.base64EncodedString()
        let applied = try await apply(
            bus.routesText + """
                  \(archive):
                    keys: {archive-1: \(archiveKey)}
                    publishes: []
                    receives: [portal.dossier.submitted.v1]

                """)
        #expect(applied.status == 0, "\(applied.errors)")
        #expect(applied.output.contains("+ adapter \(archive)"), "\(applied.output)")
        #expect(applied.output.contains("version 2 recorded"), "\(applied.output)")
        try await waitUntil("the core takes version 2: \(log)") { log.contains("configuration reloaded") }
        #expect(log.contains("by=version 2"), "\(log)")
        let watcher = try await AMQPConnection.connect(url: url)
        var dossier = CoreFixtures.dossier
        dossier.dossierId = "H01.04-261203-0001"
        try await bus.test.send(dossier, as: "portal", dossier: dossier.dossierId)
        try await waitUntil("the new adapter's inbox gets the dossier") {
            (try? await watcher.inspectQueue(CoreTopology.inbox(of: archive)).messageCount) == 1
        }
        #expect(try await apply(try String(contentsOf: folder.appendingPathComponent("routes.yaml"), encoding: .utf8)).output.contains("no change"))

        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)
        let changes = try AuditLog(.sqlite(folder: data), readOnly: true).records(correlationID: "configuration")
        #expect(changes.map(\.sender) == ["lan"])
        #expect(changes.first?.body.map { String(decoding: $0, as: UTF8.self) }?.contains("+ adapter \(archive)") == true)
        await watcher.close()
        try await bus.tearDown()
    }

    @Test("Two cores on one store: SIGHUP to one, and the other takes the same version from the store; the change audited once")
    func twoCoresOneVersion() async throws {
        let bus = try await TestBus.make()
        let store = try await TestStore.postgres.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let logs = (0..<2).map { folder.appendingPathComponent("core-\($0).log").path }
        func log(_ index: Int) -> String { (try? String(contentsOfFile: logs[index], encoding: .utf8)) ?? "" }
        let cores = try (0..<2).map { index in
            try ChildProcess.start(
                CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
                environment: [
                    "GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_STORE": TestStore.url(of: store),
                    "GOVBUS_CORE_PARTITIONS": "4", "GOVBUS_CORE_INSTANCE": "\(index)/2",
                    "GOVBUS_DATA_DIR": folder.appendingPathComponent("data-\(index)").path,
                ], errors: logs[index])
        }
        let versions = try DossierStore(store, readOnly: true)
        try await waitUntil("both cores run version 1") {
            (0..<2).allSatisfy { log($0).contains("configuration version in force") && log($0).contains("version=1") }
        }
        #expect(try versions.configurationVersion()?.version == 1)

        let archive = "archive-\(bus.suffix)"
        let archiveKey = try CoreFixtures.sandboxSigner("archive").publicKey.rawRepresentation.base64EncodedString()
        try (bus.routesText + """
              \(archive):
                keys: {archive-1: \(archiveKey)}
                publishes: []
                receives: [portal.dossier.submitted.v1]

            """).write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let signalled = ContinuousClock.now
        cores[0].send(signal: SIGHUP)
        try await waitUntil("the other core follows: \(log(1))") { log(1).contains("configuration reloaded") }
        print("two cores: the second runs version 2 \(ContinuousClock.now - signalled) after the first was signalled")
        #expect(log(0).contains("by=SIGHUP"), "\(log(0))")
        #expect(log(1).contains("by=version 2"), "\(log(1))")
        #expect(try versions.configurationVersion()?.version == 2)
        let audit = try AuditLog(store, readOnly: true)
        #expect(try audit.records(correlationID: "configuration").count == 1)

        for core in cores { core.send(signal: SIGTERM) }
        for core in cores { #expect(try await core.exitStatus(within: .seconds(20)) == 0) }
        try await bus.tearDown()
    }

    func waitUntil(
        _ what: @autoclosure () -> String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws {
        try await CoreCrashTests().waitUntil(what(), within: limit, condition)
    }
}
