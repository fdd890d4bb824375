@testable import GovBusStore
import AMQP
import AMQPTesting
import Foundation
import GovBus
import Logging
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// The core's pipeline (signature, checks, dedup, audit, routing, confirms, acks) over an in-memory
/// broker: its logic without RabbitMQ. `CoreRouterTests` runs the same against the real broker.
@Suite("The core's pipeline over an in-memory broker")
struct CoreRouterPipelineTests {
    /// The core over an in-memory broker, with the portal (its sandbox key) and the registry, which
    /// receives submitted dossiers; the retry and dead-letter exchanges bound as the topology binds them.
    struct Fixture {
        let broker: InMemoryBroker
        let router: CoreRouter
        let audit: AuditLog
    }

    static func fixture() throws -> Fixture {
        let catalog = try CoreFixtures.catalog.get()
        let portalKey = try CoreFixtures.sandboxSigner("portal").publicKey.rawRepresentation.base64EncodedString()
        let routes = try RoutesFile(
            """
            adapters:
              portal:
                keys: {portal-sandbox: \(portalKey)}
                publishes: [portal.dossier.submitted.v1]
                receives: [portal.dossier.status-changed.v1]
              registry:
                keys: {}
                publishes: []
                receives: [portal.dossier.submitted.v1]
            """, file: "routes.yaml", knownTypes: Set(catalog.messageTypes))
        let broker = InMemoryBroker(user: "govbus-core")
        broker.declare(queue: CoreTopology.coreQueue)
        broker.bind(
            queue: CoreTopology.inbox(of: "registry"), exchange: CoreTopology.deliverExchange,
            routingKey: "registry.portal.dossier.submitted.v1")
        for (label, _) in CoreTopology.retryDelays {
            broker.bind(queue: "retry-\(label)", exchange: CoreTopology.retryExchange(label))
        }
        broker.bind(queue: CoreTopology.deadLetterQueue, exchange: CoreTopology.deadExchange)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let audit = try AuditLog(path: folder.appendingPathComponent("audit.sqlite").path)
        var logger = Logger(label: "pipeline-test")
        logger.logLevel = .critical
        let router = try CoreRouter(
            checks: try IngressChecks(routes: routes, catalog: catalog, coreUser: "govbus-core"), audit: audit,
            ledgerPath: folder.appendingPathComponent("ledger.sqlite").path, connection: broker, logger: logger)
        return Fixture(broker: broker, router: router, audit: audit)
    }

    @Test("A good message is audited, routed to its receiver and acked once; a copy is acked unrouted; each bad one is dead-lettered with its check")
    func routesOverTheSeam() async throws {
        let fixture = try Self.fixture()
        let (broker, router, audit) = (fixture.broker, fixture.router, fixture.audit)
        let running = Task { try await router.run() }
        defer { running.cancel() }

        let good = try CoreFixtures.message(type: "portal.dossier.submitted.v1", example: "valid-1.json", sender: "portal")
        var forged = good
        forged.properties.messageID = UUID().uuidString.lowercased()
        forged.body[forged.body.count - 3] ^= 1
        let schema = try CoreFixtures.message(
            type: "portal.dossier.submitted.v1", example: "invalid-personal-id-too-short.json", sender: "portal")
        for message in [good, good, forged, schema] { broker.put(message, on: CoreTopology.coreQueue) }

        try await broker.wait(until: { $0.acked.count == 4 })
        #expect(router.counts.routed == 1)
        #expect(router.counts.duplicates == 1)
        let delivered = broker.published.filter { $0.exchange == CoreTopology.deliverExchange }
        #expect(delivered.count == 1)
        #expect(delivered.first?.message.properties.messageID == good.properties.messageID)
        #expect(delivered.first?.message.properties.userID == "govbus-core")
        #expect(delivered.first?.message.properties.headers?[BusHeader.sender] == .string("portal"))
        let checks = broker.published.filter { $0.exchange == CoreTopology.deadExchange }
            .compactMap { $0.message.properties.headers?[BusHeader.errorCheck]?.stringValue }
        #expect(checks.sorted() == ["schema", "signature"])
        let records = try audit.records(correlationID: "H01.04-251121-0007")
        #expect(records.count == 1)
        #expect(records.first?.receivers == ["registry"])
        #expect(try audit.verify().firstBroken == nil)
    }

    @Test("A well-formed trace context goes on with the copy; what a sender forged into the trace headers goes no further")
    func traceHeaders() async throws {
        let fixture = try Self.fixture()
        let (broker, router) = (fixture.broker, fixture.router)
        let running = Task { try await router.run() }
        defer { running.cancel() }

        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        var traced = try CoreFixtures.message(type: "portal.dossier.submitted.v1", example: "valid-1.json", sender: "portal")
        traced.properties.headers?[BusHeader.traceparent] = .string(traceparent)
        traced.properties.headers?[BusHeader.tracestate] = .string("vendor=1")
        var forged = try CoreFixtures.message(type: "portal.dossier.submitted.v1", example: "valid-1.json", sender: "portal")
        forged.properties.headers?[BusHeader.traceparent] = .string("00-\r\nX-Injected: yes")
        forged.properties.headers?[BusHeader.tracestate] = .string("vendor=1")
        var oversized = try CoreFixtures.message(type: "portal.dossier.submitted.v1", example: "valid-1.json", sender: "portal")
        oversized.properties.headers?[BusHeader.traceparent] = .string(traceparent)
        oversized.properties.headers?[BusHeader.tracestate] = .string(String(repeating: "a=b,", count: 5000))
        for message in [traced, forged, oversized] { broker.put(message, on: CoreTopology.coreQueue) }

        try await broker.wait(until: { $0.acked.count == 3 })
        let delivered = broker.published.filter { $0.exchange == CoreTopology.deliverExchange }.map(\.message)
        #expect(delivered.count == 3)
        let withTrace = try #require(delivered.first { $0.properties.messageID == traced.properties.messageID })
        #expect(withTrace.properties.headers?[BusHeader.traceparent] == .string(traceparent))
        #expect(withTrace.properties.headers?[BusHeader.tracestate] == .string("vendor=1"))
        let cleaned = try #require(delivered.first { $0.properties.messageID == forged.properties.messageID })
        #expect(cleaned.properties.headers?[BusHeader.traceparent] == nil)
        #expect(cleaned.properties.headers?[BusHeader.tracestate] == nil)
        // A good traceparent goes on; a tracestate past 512 bytes does not.
        let trimmed = try #require(delivered.first { $0.properties.messageID == oversized.properties.messageID })
        #expect(trimmed.properties.headers?[BusHeader.traceparent] == .string(traceparent))
        #expect(trimmed.properties.headers?[BusHeader.tracestate] == nil)
    }

    @Test("While the broker refuses its publishes, the core acks nothing; once they go through, the message is routed once")
    func nothingAckedBeforeItsConfirm() async throws {
        let fixture = try Self.fixture()
        let (broker, router) = (fixture.broker, fixture.router)
        broker.refusePublishing = true
        let running = Task { try await router.run() }
        defer { running.cancel() }

        let good = try CoreFixtures.message(type: "portal.dossier.submitted.v1", example: "valid-1.json", sender: "portal")
        broker.put(good, on: CoreTopology.coreQueue)
        // Its routing refused, then its retry's: it is still the broker's, not acked.
        try await broker.wait(until: { $0.refusedCount >= 2 })
        #expect(broker.settlements(of: good.properties.messageID!).allSatisfy { $0 != .acked })
        #expect(broker.published.filter { $0.exchange == CoreTopology.deliverExchange }.isEmpty)
        // The core gives it back to the broker (a nack, after a pause), which delivers it again.
        broker.refusePublishing = false
        try await broker.wait(until: { $0.acked.contains(good.properties.messageID!) })
        try await Task.sleep(for: .milliseconds(300))
        #expect(broker.published.filter { $0.exchange == CoreTopology.deliverExchange }.count == 1)
        #expect(broker.settlements(of: good.properties.messageID!).first == .requeued)
    }
}
