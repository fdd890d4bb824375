@testable import GovBusStore
import AMQP
import AMQPTesting
import Foundation
import GovBus
import GovBusContracts
import Logging
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// Attacks by one adapter with its own broker account and its own signing key, against a real core
/// (its router, process manager and stores) on a real broker. For each: the core stays up, the
/// attack is dead-lettered with the check that refused it, no dossier moves, and the victim's
/// message still goes through.
@Suite("A hostile adapter can neither crash, blind nor steer the core")
struct HostileAdapterTests {
    struct Fixture {
        let bus: TestBus
        let core: AMQPConnection
        let router: CoreRouter
        let routing: Task<Void, any Error>
        let processManager: ProcessManager
        /// A second document system, allowed to publish what the first does, that no rule sends to.
        let rogue: String
        let rogueConnection: AMQPConnection
    }

    static func fixture() async throws -> Fixture {
        let bus = try await TestBus.make()
        let rogue = "rogue-\(bus.suffix)"
        try await bus.broker.rabbitmqctl("add_user", rogue, "secret")
        try await bus.broker.rabbitmqctl(
            "set_permissions", "-p", bus.vhost, rogue, "^$", "^govbus\\.ingress$",
            "^govbus\\.adapter\\.\(rogue.replacingOccurrences(of: "-", with: "\\-"))$")
        let rogueKey = try CoreFixtures.sandboxSigner("rogue").publicKey.rawRepresentation.base64EncodedString()
        let coreKey = try CoreFixtures.sandboxSigner("core").publicKey.rawRepresentation.base64EncodedString()
        let routesText =
            bus.routesText + """
                  \(rogue):
                    keys: {rogue-sandbox: \(rogueKey)}
                    publishes: [document.issued.v1, document.issue-failed.v1]
                    receives: [document.issue-requested.v1]
                rules:
                  - type: document.issue-requested.v1
                    to: \(bus.test.names["document"]!)
                core:
                  keys: {core-sandbox: \(coreKey)}

                """
        let routes = try RoutesFile(routesText, file: "routes.yaml", knownTypes: Set(bus.catalog.messageTypes))
        let core = try await AMQPConnection.connect(url: bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost))
        try await CoreTopology(adapters: Array(bus.test.names.values) + [rogue], messageTypes: bus.catalog.messageTypes)
            .declare(on: core)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(bus.suffix)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var logger = Logger(label: "core-hostile")
        logger.logLevel = .error
        let processManager = try ProcessManager(
            storePath: folder.appendingPathComponent("dossiers.sqlite").path, procedures: CoreFixtures.procedures())
        let router = try CoreRouter(
            checks: try IngressChecks(routes: routes, catalog: bus.catalog, coreUser: "guest"),
            audit: try AuditLog(path: folder.appendingPathComponent("audit.sqlite").path),
            ledgerPath: folder.appendingPathComponent("ledger.sqlite").path, processManager: processManager,
            connection: core, signer: try CoreFixtures.sandboxSigner("core"), logger: logger)
        let routing = Task { try await router.run() }
        var rogueConfiguration = try AMQPConfiguration(url: bus.broker.url(user: rogue, password: "secret", vhost: bus.vhost))
        rogueConfiguration.recovery.enabled = false
        return Fixture(
            bus: bus, core: core, router: router, routing: routing, processManager: processManager, rogue: rogue,
            rogueConnection: try await AMQPConnection.connect(rogueConfiguration))
    }

    static func tearDown(_ fixture: Fixture) async throws {
        fixture.routing.cancel()
        await fixture.rogueConnection.close()
        await fixture.core.close()
        try await fixture.bus.tearDown()
        try await fixture.bus.broker.rabbitmqctl("delete_user", fixture.rogue)
    }

    /// A message of `role`'s test adapter, signed with its key after `edit`.
    static func message<Message: GovBusMessage>(
        _ body: Message, as role: String, user: String, dossier: String, answering request: String? = nil,
        signer: String? = nil, edit: (inout AMQPMessage) -> Void = { _ in }
    ) throws -> AMQPMessage {
        var message = AMQPMessage(
            body: Array(try body.jsonBody()),
            properties: AMQPProperties(
                contentType: "application/json", headers: request.map { ["govbus-causation-id": .string($0)] } ?? [:],
                deliveryMode: .persistent, correlationID: dossier, messageID: UUID().uuidString.lowercased(),
                timestamp: Date(), type: Message.messageType, userID: user, appID: "\(role)-test"))
        edit(&message)
        return try CoreFixtures.sandboxSigner(signer ?? role).sign(message)
    }

    func publish(_ message: AMQPMessage, on connection: AMQPConnection) async throws {
        try await connection.publish(
            message, exchange: CoreTopology.ingressExchange, routingKey: message.properties.type ?? "", mandatory: true)
    }

    /// The dead letters that arrive within the time, by message id: their check.
    func deadLetters(_ fixture: Fixture, count: Int) async throws -> [String: String] {
        let consumer = try await fixture.core.consume(queue: CoreTopology.deadLetterQueue, prefetch: 500)
        var checks: [String: String] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        for try await dead in consumer {
            checks[dead.properties.messageID ?? "?"] = dead.properties.headers?["govbus-error-check"]?.stringValue ?? "?"
            dead.ack()
            if checks.count >= count || ContinuousClock.now > deadline { break }
        }
        await consumer.cancel()
        return checks
    }

    /// The next message of an adapter's inbox.
    func next(in role: String, of fixture: Fixture) async throws -> AMQPDelivery {
        let name = fixture.bus.test.names[role] ?? role
        let consumer = try await fixture.core.consume(queue: CoreTopology.inbox(of: name), prefetch: 1)
        for try await delivery in consumer {
            delivery.ack()
            await consumer.cancel()
            return delivery
        }
        throw CoreRouterTests.TimeLimitExceeded(description: "no message in \(name)'s inbox")
    }

    func state(_ fixture: Fixture, _ dossier: String) throws -> String? {
        try fixture.processManager.snapshot(of: dossier)?.state.name
    }

    func dossier(_ id: String, procedure: String = "2.000720") -> DossierSubmittedV1 {
        var dossier = CoreFixtures.dossier
        dossier.dossierId = id
        dossier.procedure = Procedure(code: procedure, name: "Thủ tục")
        return dossier
    }

    @Test("Headers only the core writes, with absurd values, and an unknown procedure: refused, and the core stays up")
    func forgedHeaders() async throws {
        let fixture = try await Self.fixture()
        let portal = fixture.bus.test.names["portal"]!
        let connection = fixture.bus.test.connections["portal"]!
        let unknown = dossier("H01.04-251121-9001", procedure: "9.999999")
        let forgeries: [(String, AMQPFieldValue)] = [
            ("govbus-attempt", .int32(0)), ("govbus-attempt", .int32(-1)), ("govbus-attempt", .int64(Int64.max)),
            ("govbus-attempt", .string("many")), ("govbus-attempt", .bytes([0xff, 0x00, 0xfe])),
            ("govbus-sender", .string(fixture.bus.test.names["registry"]!)), ("govbus-edited-by", .string("admin")),
            ("govbus-error-check", .string("none")), ("govbus-replay-to", .string(fixture.bus.test.names["payment"]!)),
            ("GOVBUS-ATTEMPT", .int32(0)), ("govbus-causation-id", .int64(-7)), ("govbus-causation-id", .string("not-a-uuid")),
        ]
        var attacks: [String] = []
        for (name, value) in forgeries {
            let message = try Self.message(unknown, as: "portal", user: portal, dossier: unknown.dossierId) {
                $0.properties.headers?[name] = value
            }
            attacks.append(message.properties.messageID!)
            try await publish(message, on: connection)
        }
        // The same dossier without forgeries: its procedure is unknown, which no retry will cure.
        let plain = try Self.message(unknown, as: "portal", user: portal, dossier: unknown.dossierId)
        try await publish(plain, on: connection)
        let checks = try await deadLetters(fixture, count: attacks.count + 1)
        for id in attacks { #expect(checks[id] == "envelope", "\(id): \(checks[id] ?? "none")") }
        #expect(checks[plain.properties.messageID!] == "process")
        #expect(try state(fixture, unknown.dossierId) == nil)

        // The victim: a good dossier goes through.
        let victim = dossier("H01.04-251121-9002")
        try await publish(try Self.message(victim, as: "portal", user: portal, dossier: victim.dossierId), on: connection)
        let request = try await next(in: "registry", of: fixture)
        #expect(request.properties.correlationID == victim.dossierId)
        #expect(try state(fixture, victim.dossierId) == "awaiting-identity")
        #expect(!fixture.routing.isCancelled)
        try await Self.tearDown(fixture)
    }

    @Test("Trace headers forged by an adapter (a line break, bytes, a number, a 60 KB tracestate): its message goes on without them")
    func forgedTraceHeaders() async throws {
        let fixture = try await Self.fixture()
        let portal = fixture.bus.test.names["portal"]!
        let connection = fixture.bus.test.connections["portal"]!
        let good = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        // Each forgery, and the traceparent the core's request to the registry carries on (traces off).
        let forgeries: [(headers: [String: AMQPFieldValue], carried: String?)] = [
            (["traceparent": .string(good + "\r\nX-Injected: yes")], nil),
            (["traceparent": .bytes(Array(good.utf8))], nil),
            (["traceparent": .int64(7), "tracestate": .string("a=b")], nil),
            (["traceparent": .string("ff" + good.dropFirst(2))], nil),
            (["traceparent": .string(good), "tracestate": .string(String(repeating: "vendor=x,", count: 6_700))], good),
        ]
        for (index, (headers, carried)) in forgeries.enumerated() {
            let victim = dossier("H01.04-251121-93\(index)0")
            try await publish(
                try Self.message(victim, as: "portal", user: portal, dossier: victim.dossierId) {
                    $0.properties.headers?.merge(headers) { $1 }
                }, on: connection)
            // The copy the registry gets (the core's request to it) carries no forged trace header.
            let request = try await next(in: "registry", of: fixture)
            #expect(request.properties.correlationID == victim.dossierId)
            #expect(request.properties.headers?["traceparent"] == carried.map { .string($0) }, "forgery \(index)")
            #expect(request.properties.headers?["tracestate"] == nil, "forgery \(index)")
            #expect(try state(fixture, victim.dossierId) == "awaiting-identity")
        }
        #expect(!fixture.routing.isCancelled)
        try await Self.tearDown(fixture)
    }

    @Test("Signed bodies two readers could read differently (a repeated key, invalid UTF-8, deep nesting): dead-lettered with why")
    func ambiguousBodies() async throws {
        let fixture = try await Self.fixture()
        let portal = fixture.bus.test.names["portal"]!
        let connection = fixture.bus.test.connections["portal"]!
        let target = dossier("H01.04-251121-9101")
        let valid = Array(try target.jsonBody())
        let bodies: [(reason: String, body: [UInt8])] = [
            // The schema would pass the first dossierId, a decoder downstream might keep the second.
            ("appears twice", Array(#"{"dossierId":"H01.04-251121-9102","#.utf8) + valid.dropFirst()),
            ("not valid UTF-8", Array(#"{"dossierId":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)),
            ("nested more than 512", Array(#"{"dossierId":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 100_000)
                + Array(repeating: UInt8(ascii: "]"), count: 100_000) + [UInt8(ascii: "}")]),
        ]
        var expected: [String: String] = [:]
        for (reason, body) in bodies {
            // Signed with the portal's own key over these very bytes: only the reader can refuse them.
            let message = try Self.message(target, as: "portal", user: portal, dossier: target.dossierId) { $0.body = body }
            expected[message.properties.messageID!] = reason
            try await publish(message, on: connection)
        }
        let consumer = try await fixture.core.consume(queue: CoreTopology.deadLetterQueue, prefetch: 10)
        var reasons: [String: (check: String, reason: String)] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        for try await dead in consumer {
            let headers = dead.properties.headers
            reasons[dead.properties.messageID ?? "?"] = (
                headers?["govbus-error-check"]?.stringValue ?? "?", headers?["govbus-error-reason"]?.stringValue ?? "?"
            )
            dead.ack()
            if reasons.count >= expected.count || ContinuousClock.now > deadline { break }
        }
        await consumer.cancel()
        for (id, reason) in expected {
            #expect(reasons[id]?.check == "schema", "\(reason): \(reasons[id].map { "\($0)" } ?? "no dead letter")")
            #expect(reasons[id]?.reason.contains(reason) == true, "\(reasons[id]?.reason ?? "no dead letter")")
        }
        #expect(try state(fixture, target.dossierId) == nil)
        #expect(try state(fixture, "H01.04-251121-9102") == nil)

        // The victim: a good dossier goes through.
        let victim = dossier("H01.04-251121-9103")
        try await publish(try Self.message(victim, as: "portal", user: portal, dossier: victim.dossierId), on: connection)
        let request = try await next(in: "registry", of: fixture)
        #expect(request.properties.correlationID == victim.dossierId)
        #expect(!fixture.routing.isCancelled)
        try await Self.tearDown(fixture)
    }

    @Test("An id pre-claimed by another adapter does not make the core drop the victim's message")
    func preClaimedID() async throws {
        let fixture = try await Self.fixture()
        let victim = dossier("H01.04-251121-9003")
        let claimed = UUID().uuidString.lowercased()
        let heartbeat = AdapterHeartbeatV1(
            adapter: fixture.bus.test.names["registry"]!, version: "1", instance: "x", startedAt: Date(), sentAt: Date(),
            status: .up)
        let claim = try Self.message(
            heartbeat, as: "registry", user: fixture.bus.test.names["registry"]!, dossier: fixture.bus.test.names["registry"]!
        ) { $0.properties.messageID = claimed }
        try await publish(claim, on: fixture.bus.test.connections["registry"]!)
        try await Task.sleep(for: .milliseconds(500))
        let submitted = try Self.message(
            victim, as: "portal", user: fixture.bus.test.names["portal"]!, dossier: victim.dossierId
        ) { $0.properties.messageID = claimed }
        try await publish(submitted, on: fixture.bus.test.connections["portal"]!)
        let request = try await next(in: "registry", of: fixture)
        #expect(request.properties.correlationID == victim.dossierId)
        #expect(try state(fixture, victim.dossierId) == "awaiting-identity")
        #expect(fixture.router.counts.duplicates == 0)
        try await Self.tearDown(fixture)
    }

    @Test("A reply moves a dossier only when it answers the core's request to its sender, about that dossier")
    func repliesAnswerRequests() async throws {
        let fixture = try await Self.fixture()
        let names = fixture.bus.test.names
        let connections = fixture.bus.test.connections
        let target = dossier("H01.04-251121-9004")
        let bystander = dossier("H01.04-251121-9005")
        for submitted in [target, bystander] {
            try await publish(
                try Self.message(submitted, as: "portal", user: names["portal"]!, dossier: submitted.dossierId),
                on: connections["portal"]!)
        }
        var requests: [String: String] = [:]
        for _ in 0..<2 {
            let request = try await next(in: "registry", of: fixture)
            requests[request.properties.correlationID!] = request.properties.messageID!
        }
        let asked = try #require(requests[target.dossierId])
        let personalID = target.applicant.personalId
        func verified(_ dossierID: String = target.dossierId, personalID: String = personalID) -> IdentityVerifiedV1 {
            IdentityVerifiedV1(dossierId: dossierID, personalId: personalID, eIdLevel: 2, verifiedAt: Date())
        }
        let registry = names["registry"]!
        var attacks: [String: AMQPMessage] = [
            "no causation": try Self.message(verified(), as: "registry", user: registry, dossier: target.dossierId),
            "a request never made": try Self.message(
                verified(), as: "registry", user: registry, dossier: target.dossierId, answering: UUID().uuidString.lowercased()),
            "another personal id": try Self.message(
                verified(personalID: "079199900001"), as: "registry", user: registry, dossier: target.dossierId, answering: asked),
            "the other dossier's request": try Self.message(
                verified(), as: "registry", user: registry, dossier: target.dossierId,
                answering: requests[bystander.dossierId]),
            "correlation_id not the body's dossier": try Self.message(
                verified(), as: "registry", user: registry, dossier: bystander.dossierId, answering: asked),
            "a payment nobody asked for": try Self.message(
                FeePaidV1(
                    dossierId: target.dossierId, orderId: "\(target.dossierId)-FEE", amount: 50_000, bankCode: "NCB",
                    bankTransactionNumber: "1", paidAt: Date()),
                as: "payment", user: names["payment"]!, dossier: target.dossierId, answering: asked),
        ]
        for (what, message) in attacks {
            try await publish(message, on: connections[what == "a payment nobody asked for" ? "payment" : "registry"]!)
        }
        var checks = try await deadLetters(fixture, count: attacks.count)
        for (what, message) in attacks {
            #expect(checks[message.properties.messageID!] == "correlation", "\(what): \(checks[message.properties.messageID!] ?? "none")")
        }
        #expect(try state(fixture, target.dossierId) == "awaiting-identity")
        #expect(try state(fixture, bystander.dossierId) == "awaiting-identity")

        // The registry's true answer moves the dossier; the fee request goes to the payment adapter.
        try await publish(
            try Self.message(verified(), as: "registry", user: registry, dossier: target.dossierId, answering: asked),
            on: connections["registry"]!)
        let feeRequest = try await next(in: "payment", of: fixture)
        #expect(try state(fixture, target.dossierId) == "awaiting-payment")
        let fee = try FeeRequestedV1(jsonBody: Data(feeRequest.body))
        let payment = names["payment"]!
        func paid(amount: Int = fee.amount, order: String = fee.orderId) -> FeePaidV1 {
            FeePaidV1(
                dossierId: target.dossierId, orderId: order, amount: amount, bankCode: "NCB", bankTransactionNumber: "14000001",
                paidAt: Date())
        }
        let feeID = feeRequest.properties.messageID
        attacks = [
            "another amount": try Self.message(
                paid(amount: fee.amount + 1), as: "payment", user: payment, dossier: target.dossierId, answering: feeID),
            "another order": try Self.message(
                paid(order: "\(bystander.dossierId)-FEE"), as: "payment", user: payment, dossier: target.dossierId, answering: feeID),
        ]
        for message in attacks.values { try await publish(message, on: connections["payment"]!) }
        checks = try await deadLetters(fixture, count: attacks.count)
        for (what, message) in attacks {
            #expect(checks[message.properties.messageID!] == "correlation", "\(what): \(checks[message.properties.messageID!] ?? "none")")
        }
        #expect(try state(fixture, target.dossierId) == "awaiting-payment")
        try await publish(
            try Self.message(paid(), as: "payment", user: payment, dossier: target.dossierId, answering: feeID),
            on: connections["payment"]!)
        let documentRequest = try await next(in: "document", of: fixture)
        #expect(try state(fixture, target.dossierId) == "awaiting-document")

        // The rule sends the document request to one document system: the other cannot answer it.
        let request = try DocumentIssueRequestedV1(jsonBody: Data(documentRequest.body))
        let issued = DocumentIssuedV1(
            dossierId: target.dossierId, documentType: request.documentType, codeNumber: "125", codeNotation: "GCN-UBND",
            issuingOrganCode: request.issuingOrganCode, signer: request.signer,
            promulgationDate: CivilDate(year: 2025, month: 11, day: 21), sha256: String(repeating: "b", count: 64),
            retrievalUrl: URL(string: "https://docs.example.vn/x")!, signature: "c2ln", issuedAt: Date())
        let fromRogue = try Self.message(
            issued, as: "rogue", user: fixture.rogue, dossier: target.dossierId, answering: documentRequest.properties.messageID)
        try await publish(fromRogue, on: fixture.rogueConnection)
        checks = try await deadLetters(fixture, count: 1)
        #expect(checks[fromRogue.properties.messageID!] == "correlation")
        #expect(try state(fixture, target.dossierId) == "awaiting-document")
        try await Self.tearDown(fixture)
    }

    @Test("A thousand malformed messages in a burst and an oversized body: all dead-lettered or refused, the victim served")
    func burst() async throws {
        let fixture = try await Self.fixture()
        let portal = fixture.bus.test.names["portal"]!
        let connection = fixture.bus.test.connections["portal"]!
        var generator = SystemRandomNumberGenerator()
        var sent = 0
        for index in 0..<1000 {
            var message = try Self.message(dossier("H01.04-251121-\(String(format: "%04d", index % 9999))"), as: "portal", user: portal, dossier: "x")
            switch index % 5 {
            case 0: message.body = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            case 1: message.body = Array("{\"dossierId\": [[[[[[[[[[[[[[[[[[[[[[[[".utf8)
            case 2: message.properties.messageID = String(repeating: "9", count: 200)
            case 3: message.properties.type = "portal.dossier.submitted.v999"
            default: message.body = Array(#"{"dossierId": 1e999999, "applicant": {"personalId": 1.5}}"#.utf8)
            }
            try await connection.publish(message, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1")
            sent += 1
        }
        // A timestamp of 2^64 - 1 seconds: the core once trapped converting it for the signature.
        var farFuture = try Self.message(dossier("H01.04-251121-9009"), as: "portal", user: portal, dossier: "H01.04-251121-9009")
        farFuture.properties.timestamp = Date(timeIntervalSince1970: Double(UInt64.max))
        try await connection.publish(farFuture, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1")
        sent += 1
        // Above the broker's max_message_size: the broker refuses it before the core sees a byte.
        var huge = try Self.message(dossier("H01.04-251121-9006"), as: "portal", user: portal, dossier: "H01.04-251121-9006")
        huge.body = [UInt8](repeating: 0x20, count: 100 * 1024 * 1024)
        var hugeConfiguration = try AMQPConfiguration(url: fixture.bus.broker.url(user: portal, password: "secret", vhost: fixture.bus.vhost))
        hugeConfiguration.recovery.enabled = false
        let hugeConnection = try await AMQPConnection.connect(hugeConfiguration)
        await #expect(throws: AMQPError.self) {
            try await hugeConnection.publish(huge, exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1")
        }
        await hugeConnection.close()

        let victim = dossier("H01.04-251121-9007")
        try await publish(try Self.message(victim, as: "portal", user: portal, dossier: victim.dossierId), on: connection)
        let request = try await next(in: "registry", of: fixture)
        #expect(request.properties.correlationID == victim.dossierId)
        try await CoreRouterTests().waitFor("1,000 dead letters") {
            try await fixture.core.inspectQueue(CoreTopology.deadLetterQueue).messageCount == UInt32(sent)
        }
        #expect(fixture.router.counts.rejected.values.reduce(0, +) == sent)
        try await Self.tearDown(fixture)
    }

    @Test("A replayed dead letter is checked again: a refund above what was paid, or to an adapter that does not receive it, is refused")
    func replays() async throws {
        let fixture = try await Self.fixture()
        let names = fixture.bus.test.names
        let connections = fixture.bus.test.connections
        let target = dossier("H01.04-251121-9008")
        try await publish(
            try Self.message(target, as: "portal", user: names["portal"]!, dossier: target.dossierId), on: connections["portal"]!)
        let identityRequest = try await next(in: "registry", of: fixture)
        try await publish(
            try Self.message(
                IdentityVerifiedV1(dossierId: target.dossierId, personalId: target.applicant.personalId, eIdLevel: 2, verifiedAt: Date()),
                as: "registry", user: names["registry"]!, dossier: target.dossierId, answering: identityRequest.properties.messageID),
            on: connections["registry"]!)
        let feeRequest = try await next(in: "payment", of: fixture)
        let fee = try FeeRequestedV1(jsonBody: Data(feeRequest.body))
        let paid = FeePaidV1(
            dossierId: target.dossierId, orderId: fee.orderId, amount: fee.amount, bankCode: "NCB",
            bankTransactionNumber: "14000009", paidAt: Date())
        try await publish(
            try Self.message(
                paid, as: "payment", user: names["payment"]!, dossier: target.dossierId, answering: feeRequest.properties.messageID),
            on: connections["payment"]!)
        _ = try await next(in: "document", of: fixture)

        // What the console publishes for a dead letter an adapter rejected: the core's own message,
        // through the core's queue, naming the adapter to go back to.
        func replay<Message: GovBusMessage>(_ body: Message, to adapter: String) throws -> AMQPMessage {
            try Self.message(body, as: "core", user: "guest", dossier: target.dossierId) {
                $0.properties.headers = [BusHeader.replayTo: .string(adapter)]
            }
        }
        func refund(_ amount: Int) -> FeeRefundRequestedV1 {
            FeeRefundRequestedV1(
                dossierId: target.dossierId, orderId: fee.orderId, amount: amount, bankTransactionNumber: paid.bankTransactionNumber,
                paidAt: paid.paidAt, reason: Reason(code: "x", message: "replayed"), requestedAt: Date())
        }
        let tooMuch = try replay(refund(fee.amount + 1), to: names["payment"]!)
        let wrongAdapter = try replay(refund(fee.amount), to: names["registry"]!)
        for message in [tooMuch, wrongAdapter] {
            try await fixture.core.publish(message, exchange: "", routingKey: CoreTopology.coreQueue, mandatory: true)
        }
        let checks = try await deadLetters(fixture, count: 2)
        #expect(checks[tooMuch.properties.messageID!] == "correlation")
        #expect(checks[wrongAdapter.properties.messageID!] == "correlation")
        // An adapter cannot ask for a replay itself: the header is the core's.
        let forged = try Self.message(target, as: "portal", user: names["portal"]!, dossier: target.dossierId) {
            $0.properties.headers = [BusHeader.replayTo: .string(names["payment"]!)]
        }
        try await publish(forged, on: connections["portal"]!)
        #expect(try await deadLetters(fixture, count: 1)[forged.properties.messageID!] == "envelope")

        // The refund of what was paid goes back to the payment adapter, and nothing else moves.
        let fair = try replay(refund(fee.amount), to: names["payment"]!)
        try await fixture.core.publish(fair, exchange: "", routingKey: CoreTopology.coreQueue, mandatory: true)
        let delivered = try await next(in: "payment", of: fixture)
        #expect(delivered.properties.messageID == fair.properties.messageID)
        #expect(delivered.properties.headers?[BusHeader.replayTo] == nil)
        #expect(try state(fixture, target.dossierId) == "awaiting-document")
        try await Self.tearDown(fixture)
    }
}
