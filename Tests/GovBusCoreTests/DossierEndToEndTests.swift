@testable import GovBusStore
import AMQP
import AMQPTesting
import Foundation
import GovBus
import GovBusContracts
import Logging
import Synchronization
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// Dossiers driven through a real core by test adapters: each adapter is a broker user that reads
/// its inbox and answers, signed with its sandbox key, as the real connectors will.
@Suite("Dossiers through the core, end to end")
struct DossierEndToEndTests {
    static let roles = ["portal", "registry", "payment", "document"]

    final class Statuses: Sendable {
        private let state = Mutex<(byDossier: [String: [DossierStatusChangedV1.Status]], seen: Set<String>, duplicates: Int)>(
            ([:], [], 0))

        /// Records a status once per message id (a message sent again after a crash keeps its id).
        func add(_ dossier: String, _ status: DossierStatusChangedV1.Status, messageID: String) {
            state.withLock { state in
                guard state.seen.insert(messageID).inserted else {
                    state.duplicates += 1
                    return
                }
                state.byDossier[dossier, default: []].append(status)
            }
        }

        var duplicates: Int { state.withLock { $0.duplicates } }
        var all: [String: [DossierStatusChangedV1.Status]] { state.withLock { $0.byDossier } }
    }

    /// The adapters' broker users and connections, and how they send.
    struct TestAdapters: Sendable {
        let names: [String: String]
        let connections: [String: AMQPConnection]

        /// Publishes `message` as `role`'s test adapter; a reply names the request it answers.
        func send<Message: GovBusMessage>(
            _ message: Message, as role: String, dossier: String, answering request: String? = nil
        ) async throws {
            let signed = try CoreFixtures.sandboxSigner(role).sign(
                AMQPMessage(
                    body: Array(try message.jsonBody()),
                    properties: AMQPProperties(
                        contentType: "application/json",
                        headers: request.map { ["govbus-causation-id": .string($0)] } ?? [:], deliveryMode: .persistent,
                        correlationID: dossier,
                        messageID: UUID().uuidString.lowercased(), timestamp: Date(), type: Message.messageType,
                        userID: names[role]!, appID: "\(role)-test")))
            try await connections[role]!.publish(
                signed, exchange: CoreTopology.ingressExchange, routingKey: Message.messageType, mandatory: true)
        }
    }

    /// Reads each test adapter's inbox and answers as the real system would: the registry verifies,
    /// the payment gateway makes a link and is paid, the document system issues. The portal's
    /// statuses are collected, once per message id. `payment`, when given, answers the payment
    /// adapter's inbox instead (a gateway that is not paid, or that counts what it is asked).
    static func runTestAdapters(
        _ test: TestAdapters, statuses: Statuses, payment: (@Sendable (AMQPDelivery) async throws -> Void)? = nil
    ) async throws {
        let connections = test.connections
        let users = test.names
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await delivery in try await connections["portal"]!.consume(queue: CoreTopology.inbox(of: users["portal"]!)) {
                    let status = try DossierStatusChangedV1(jsonBody: Data(delivery.body))
                    statuses.add(status.dossierId, status.status, messageID: delivery.properties.messageID ?? "")
                    delivery.ack()
                }
            }
            group.addTask {
                for try await delivery in try await connections["registry"]!.consume(queue: CoreTopology.inbox(of: users["registry"]!)) {
                    let request = try IdentityVerificationRequestedV1(jsonBody: Data(delivery.body))
                    try await test.send(
                        IdentityVerifiedV1(dossierId: request.dossierId, personalId: request.personalId, eIdLevel: 2, verifiedAt: Date()),
                        as: "registry", dossier: request.dossierId, answering: delivery.properties.messageID)
                    delivery.ack()
                }
            }
            group.addTask {
                for try await delivery in try await connections["payment"]!.consume(queue: CoreTopology.inbox(of: users["payment"]!)) {
                    if let payment {
                        try await payment(delivery)
                        delivery.ack()
                        continue
                    }
                    let request = try FeeRequestedV1(jsonBody: Data(delivery.body))
                    try await test.send(
                        FeeLinkCreatedV1(
                            dossierId: request.dossierId, orderId: request.orderId, amount: request.amount,
                            paymentUrl: URL(string: "https://pay.example.vn/\(request.orderId)")!,
                            expiresAt: Date().addingTimeInterval(900)),
                        as: "payment", dossier: request.dossierId, answering: delivery.properties.messageID)
                    try await test.send(
                        FeePaidV1(
                            dossierId: request.dossierId, orderId: request.orderId, amount: request.amount, bankCode: "NCB",
                            bankTransactionNumber: String(UInt32.random(in: 1_000_000...9_999_999)), paidAt: Date()),
                        as: "payment", dossier: request.dossierId, answering: delivery.properties.messageID)
                    delivery.ack()
                }
            }
            group.addTask {
                for try await delivery in try await connections["document"]!.consume(queue: CoreTopology.inbox(of: users["document"]!)) {
                    let request = try DocumentIssueRequestedV1(jsonBody: Data(delivery.body))
                    try await test.send(
                        DocumentIssuedV1(
                            dossierId: request.dossierId, documentType: request.documentType, codeNumber: "125",
                            codeNotation: "GCN-UBND", issuingOrganCode: request.issuingOrganCode, signer: request.signer,
                            promulgationDate: CivilDate(year: 2025, month: 11, day: 21),
                            sha256: String(repeating: "b", count: 64),
                            retrievalUrl: URL(string: "https://docs.example.vn/\(request.dossierId)")!, signature: "c2ln",
                            issuedAt: Date()),
                        as: "document", dossier: request.dossierId, answering: delivery.properties.messageID)
                    delivery.ack()
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("Ten dossiers, with a fee, reach completion; the portal hears every step; the audit chain holds")
    func tenDossiers() async throws {
        let bus = try await TestBus.make()
        let (broker, vhost, suffix, names, catalog) = (bus.broker, bus.vhost, bus.suffix, bus.test.names, bus.catalog)
        let routes = try RoutesFile(bus.routesText, file: "routes.yaml", knownTypes: Set(catalog.messageTypes))

        let core = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        try await CoreTopology(adapters: Array(names.values), messageTypes: catalog.messageTypes).declare(on: core)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let audit = try AuditLog(path: folder.appendingPathComponent("audit.sqlite").path)
        var logger = Logger(label: "core-e2e")
        logger.logLevel = .warning
        let router = try CoreRouter(
            checks: try IngressChecks(routes: routes, catalog: catalog, coreUser: "guest"), audit: audit,
            ledgerPath: folder.appendingPathComponent("ledger.sqlite").path,
            processManager: try ProcessManager(
                storePath: folder.appendingPathComponent("dossiers.sqlite").path, procedures: CoreFixtures.procedures()),
            connection: core, logger: logger)
        let routing = Task { try await router.run() }

        let test = bus.test

        // The test adapters.
        let statuses = Statuses()
        let adapters = Task { try await Self.runTestAdapters(test, statuses: statuses) }

        let dossiers = (1...10).map { String(format: "H01.04-251121-%04d", $0) }
        for id in dossiers {
            var dossier = CoreFixtures.dossier
            dossier.dossierId = id
            try await test.send(dossier, as: "portal", dossier: id)
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while statuses.all.values.filter({ $0.last == .completed }).count < dossiers.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        let seen = statuses.all
        for id in dossiers {
            #expect(
                seen[id] == [.submitted, .identityVerified, .feeRequested, .feePaid, .documentIssued, .completed],
                "\(id): \(seen[id] ?? [])")
        }
        #expect(try audit.verify().firstBroken == nil)
        // What the adapters sent, and what the core sent: every status and every request.
        let records = try audit.records(correlationID: dossiers[0])
        #expect(records.filter { $0.sender != "guest" }.count == 5)
        #expect(records.filter { $0.type == DossierStatusChangedV1.messageType }.count == 6)
        #expect(
            Set(records.filter { $0.sender == "guest" && $0.type != DossierStatusChangedV1.messageType }.map(\.type)) == [
                IdentityVerificationRequestedV1.messageType, FeeRequestedV1.messageType, DocumentIssueRequestedV1.messageType,
            ])

        adapters.cancel()
        routing.cancel()
        await core.close()
        try await bus.tearDown()
    }
}

/// A vhost of the test's own with the four test adapters as broker users (write the ingress, read
/// their inbox), their connections, and a routes file naming them with their sandbox keys.
struct TestBus: Sendable {
    let broker: TestBroker
    let vhost: String
    let suffix: String
    let test: DossierEndToEndTests.TestAdapters
    let routesText: String
    let catalog: SchemaCatalog

    static func make() async throws -> TestBus {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await CoreTopologyTests.freshVhost(broker)
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        var names: [String: String] = [:]
        for role in DossierEndToEndTests.roles {
            let user = "\(role)-\(suffix)"
            names[role] = user
            try await broker.rabbitmqctl("add_user", user, "secret")
            try await broker.rabbitmqctl(
                "set_permissions", "-p", vhost, user, "^$", "^govbus\\.ingress$",
                "^govbus\\.adapter\\.\(user.replacingOccurrences(of: "-", with: "\\-"))$")
        }
        let catalog = try CoreFixtures.catalog.get()
        var routesText = "adapters:\n"
        let template = try String(
            contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"), encoding: .utf8)
        let sample = try RoutesFile(template, file: "routes.yaml", knownTypes: Set(catalog.messageTypes))
        for role in DossierEndToEndTests.roles {
            let adapter = try #require(sample.adapters[role])
            let key = try CoreFixtures.sandboxSigner(role).publicKey.rawRepresentation.base64EncodedString()
            routesText += """
                  \(names[role]!):
                    keys: {\(role)-sandbox: \(key)}
                    publishes: [\(adapter.publishes.sorted().joined(separator: ", "))]
                    receives: [\(adapter.receives.sorted().joined(separator: ", "))]

                """
        }
        var connecting: [String: AMQPConnection] = [:]
        for role in DossierEndToEndTests.roles {
            connecting[role] = try await AMQPConnection.connect(
                url: broker.url(user: names[role]!, password: "secret", vhost: vhost))
        }
        return TestBus(
            broker: broker, vhost: vhost, suffix: suffix,
            test: DossierEndToEndTests.TestAdapters(names: names, connections: connecting), routesText: routesText,
            catalog: catalog)
    }

    func tearDown() async throws {
        for connection in test.connections.values { await connection.close() }
        try await broker.rabbitmqctl("delete_vhost", vhost)
        for user in test.names.values { try await broker.rabbitmqctl("delete_user", user) }
    }
}

extension TestBus {
    /// Submits `count` copies of the sample dossier as the portal, numbered from 1; returns their ids.
    func submitSampleDossiers(_ count: Int) async throws -> [String] {
        let ids = (1...count).map { String(format: "H01.04-251121-%04d", $0) }
        for id in ids {
            var dossier = CoreFixtures.dossier
            dossier.dossierId = id
            try await test.send(dossier, as: "portal", dossier: id)
        }
        return ids
    }
}
