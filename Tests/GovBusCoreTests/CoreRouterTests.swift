@testable import GovBusStore
import AMQP
import AMQPTesting
import Foundation
import GovBus
import Logging
import Prometheus
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// The core's router against a real broker, on a vhost of its own, with adapters as broker users
/// that may write on the ingress and read their own inbox only.
@Suite("The core routes what passes its checks and dead-letters the rest")
struct CoreRouterTests {
    struct Fixture {
        let broker: TestBroker
        let vhost: String
        let portal: String
        let registry: String
        let core: AMQPConnection
        let portalConnection: AMQPConnection
        let router: CoreRouter
        let routerTask: Task<Void, any Error>
        let audit: AuditLog
        let metrics: PrometheusCollectorRegistry
    }

    static func fixture() async throws -> Fixture {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await CoreTopologyTests.freshVhost(broker)
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let portal = "portal-\(suffix)"
        let registry = "registry-\(suffix)"
        for adapter in [portal, registry] {
            try await broker.rabbitmqctl("add_user", adapter, "secret")
            try await broker.rabbitmqctl(
                "set_permissions", "-p", vhost, adapter, "^$", "^govbus\\.ingress$",
                "^\(CoreTopology.inbox(of: adapter).replacingOccurrences(of: ".", with: "\\."))$")
        }
        let catalog = try CoreFixtures.catalog.get()
        let portalKey = try CoreFixtures.sandboxSigner("portal").publicKey.rawRepresentation.base64EncodedString()
        let registryKey = try CoreFixtures.sandboxSigner("registry").publicKey.rawRepresentation.base64EncodedString()
        let routes = try RoutesFile(
            """
            adapters:
              \(portal):
                keys: {portal-sandbox: \(portalKey)}
                publishes: [portal.dossier.submitted.v1]
                receives: [portal.dossier.status-changed.v1]
              \(registry):
                keys: {registry-sandbox: \(registryKey)}
                publishes: [registry.identity.verified.v1]
                receives: [portal.dossier.submitted.v1]
            """, file: "routes.yaml", knownTypes: Set(catalog.messageTypes))
        let core = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        try await CoreTopology(adapters: [portal, registry], messageTypes: catalog.messageTypes).declare(on: core)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("core-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let audit = try AuditLog(path: folder.appendingPathComponent("audit.sqlite").path)
        var logger = Logger(label: "core-test")
        logger.logLevel = .warning
        let metrics = PrometheusCollectorRegistry()
        let router = try CoreRouter(
            checks: try IngressChecks(routes: routes, catalog: catalog, coreUser: "guest"), audit: audit,
            ledgerPath: folder.appendingPathComponent("ledger.sqlite").path, connection: core,
            metrics: CoreMetrics(factory: PrometheusMetricsFactory(registry: metrics)), logger: logger)
        let routerTask = Task { try await router.run() }
        var portalConfiguration = try AMQPConfiguration(url: broker.url(user: portal, password: "secret", vhost: vhost))
        portalConfiguration.recovery.enabled = false
        let portalConnection = try await AMQPConnection.connect(portalConfiguration)
        return Fixture(
            broker: broker, vhost: vhost, portal: portal, registry: registry, core: core, portalConnection: portalConnection,
            router: router, routerTask: routerTask, audit: audit, metrics: metrics)
    }

    static func tearDown(_ fixture: Fixture) async throws {
        fixture.routerTask.cancel()
        await fixture.portalConnection.close()
        await fixture.core.close()
        try await fixture.broker.rabbitmqctl("delete_vhost", fixture.vhost)
        for user in [fixture.portal, fixture.registry] { try await fixture.broker.rabbitmqctl("delete_user", user) }
    }

    func message(_ fixture: Fixture, example: String = "valid-1.json", type: String = "portal.dossier.submitted.v1",
                 edit: (inout AMQPMessage) -> Void = { _ in }) throws -> AMQPMessage {
        try CoreFixtures.message(type: type, example: example, sender: fixture.portal, edit: edit)
    }

    func waitFor(_ what: @autoclosure () -> String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(15)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw TimeLimitExceeded(description: "waited too long for \(what())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    struct TimeLimitExceeded: Error, CustomStringConvertible {
        let description: String
    }

    @Test("A good message is audited and routed once; each bad one is dead-lettered with its check")
    func routing() async throws {
        let fixture = try await Self.fixture()
        let portal = fixture.portalConnection
        let good = try message(fixture)
        try await portal.publish(good, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1", mandatory: true)
        try await portal.publish(good, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1", mandatory: true)

        var forged = try message(fixture)
        forged.body[forged.body.count - 3] ^= 1
        let bad: [(String, AMQPMessage)] = [
            ("signature", forged),
            ("permission", try message(fixture, example: "valid-1.json", type: "registry.identity.verified.v1")),
            ("schema", try message(fixture, example: "invalid-personal-id-too-short.json")),
            ("envelope", try message(fixture) { $0.properties.correlationID = nil }),
        ]
        for (_, message) in bad {
            try await portal.publish(message, exchange: CoreTopology.ingressExchange, routingKey: message.properties.type!, mandatory: true)
        }

        let registryInbox = CoreTopology.inbox(of: fixture.registry)
        try await waitFor("the router (\(fixture.router.counts))") {
            fixture.router.counts.routed + fixture.router.counts.duplicates == 2
        }
        try await waitFor("the dead letters") {
            try await fixture.core.inspectQueue(CoreTopology.deadLetterQueue).messageCount == 4
        }
        #expect(fixture.router.counts.duplicates == 1)
        #expect(try await fixture.core.inspectQueue(registryInbox).messageCount == 1)

        // The dead letters say which check failed and why.
        let consumer = try await fixture.core.consume(queue: CoreTopology.deadLetterQueue)
        var checks: [String: String] = [:]
        for try await dead in consumer {
            let headers = dead.properties.headers ?? [:]
            checks[headers["govbus-error-check"]?.stringValue ?? "?"] = headers["govbus-error-reason"]?.stringValue
            #expect(headers["govbus-error-where"] == "core")
            #expect(headers["govbus-error-at"]?.stringValue?.hasSuffix("Z") == true)
            dead.ack()
            if checks.count == 4 { break }
        }
        #expect(Set(checks.keys) == ["signature", "permission", "schema", "envelope"])
        let routed = try await fixture.core.consume(queue: registryInbox)
        for try await delivery in routed {
            #expect(delivery.properties.messageID == good.properties.messageID)
            #expect(delivery.properties.userID == "guest")
            #expect(delivery.properties.headers?["govbus-sender"] == .string(fixture.portal))
            delivery.ack()
            break
        }
        #expect(checks["permission"]?.contains("may not publish registry.identity.verified.v1") == true)
        #expect(checks["schema"]?.contains("/applicant/personalId") == true)
        #expect(checks["envelope"]?.contains("correlation_id") == true)

        // One audit record, for the routed message; the chain verifies.
        let records = try fixture.audit.records(correlationID: "H01.04-251121-0007")
        #expect(records.count == 1)
        #expect(records.first?.receivers == [fixture.registry])
        #expect(try fixture.audit.verify().firstBroken == nil)

        // The same, in the figures Prometheus scrapes.
        let exported = fixture.metrics.emitToString()
        for line in [
            #"govbus_core_messages_in_total{type="portal.dossier.submitted.v1"} 2"#,
            #"govbus_core_messages_out_total{type="portal.dossier.submitted.v1",receiver=""#,
            #"govbus_core_duplicates_total 1"#,
            #"govbus_core_rejections_total{check="signature"} 1"#,
            #"govbus_core_rejections_total{check="envelope"} 1"#,
            #"govbus_core_routing_seconds_count{type="portal.dossier.submitted.v1"} 1"#,
        ] {
            #expect(exported.contains(line), "no '\(line)' in:\n\(exported)")
        }
        try await Self.tearDown(fixture)
    }

    @Test("The broker refuses a user_id that is not the connection's, and an adapter reading another's inbox")
    func brokerEnforces() async throws {
        let fixture = try await Self.fixture()
        let spoofed = try message(fixture) { $0.properties.userID = fixture.registry }
        let spoofError = await #expect(throws: AMQPError.self) {
            try await fixture.portalConnection.publish(
                spoofed, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1")
        }
        #expect(spoofError?.replyCode == 406)
        #expect(spoofError?.message.contains("user_id") == true)

        let readError = await #expect(throws: AMQPError.self) {
            _ = try await fixture.portalConnection.consume(queue: CoreTopology.inbox(of: fixture.registry))
        }
        #expect(readError?.kind == .accessRefused)
        // Nor may an adapter declare anything.
        let declareError = await #expect(throws: AMQPError.self) {
            try await fixture.portalConnection.declare(AMQPQueue("sneaky", kind: .quorum))
        }
        #expect(declareError?.kind == .accessRefused)
        try await Self.tearDown(fixture)
    }
}
