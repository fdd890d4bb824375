import AMQP
import AMQPTesting
import CoreTestFixtures
import Crypto
import Foundation
import GovBus
import GovBusContracts
import GovBusStore
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Synchronization
import Testing

@testable import GovBusConsole
@testable import GovBusCore

/// A fee paid in cash at the one-stop counter, recorded by an officer in the console, through a
/// real broker and a core: the console signs it and sends it as the core's user; the core takes
/// it only for a dossier awaiting its fee, for the fee due, once; an online payment after it is
/// refunded.
@Suite("Fees paid at the counter")
struct CounterPaymentTests {
    static let officerHash = Result { try PasswordHash.make("officer-secret", rounds: 1 << 10) }
    static let viewerHash = Result { try PasswordHash.make("viewer-secret", rounds: 1 << 10) }
    static let origin = "http://console.test:8090"

    @Test("An officer's counter payment completes the dossier; a second, a wrong amount, one not awaited and a viewer's are refused with why; a later VNPay payment is refunded")
    func counterPayment() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let consoleKey = try CoreFixtures.sandboxSigner("console")
        // The gateway's adapter may send v2 too (as it will once it moves to it), so that the test
        // shows the channel check, not the permission, refusing its "counter" payment.
        let routesText = bus.routesText.replacingOccurrences(
            of: "payment.fee.paid.v1]", with: "payment.fee.paid.v1, payment.fee.paid.v2]") + """
            operators:
              keys: {console-sandbox: \(consoleKey.publicKey.rawRepresentation.base64EncodedString())}
              publishes: [payment.fee.paid.v2]

            """
        let routes = try RoutesFile(routesText, file: "routes.yaml", knownTypes: Set(bus.catalog.messageTypes))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("counter-\(bus.suffix)")
        let data = folder.appendingPathComponent("core")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)

        // The core, in this process, on SQLite files the console reads.
        let coreConnection = try await AMQPConnection.connect(url: url)
        try await CoreTopology(adapters: Array(bus.test.names.values), messageTypes: bus.catalog.messageTypes).declare(on: coreConnection)
        let audit = try AuditLog(path: data.appendingPathComponent("audit.sqlite").path)
        var logger = Logger(label: "counter-test")
        logger.logLevel = .warning
        let router = try CoreRouter(
            checks: try IngressChecks(routes: routes, catalog: bus.catalog, coreUser: "guest"), audit: audit,
            ledgerPath: data.appendingPathComponent("ledger.sqlite").path,
            processManager: try ProcessManager(
                storePath: data.appendingPathComponent("dossiers.sqlite").path, procedures: CoreFixtures.procedures()),
            connection: coreConnection, logger: logger)
        let routing = Task { try await router.run() }

        // The console, publishing as the core's user.
        let consoleConnection = try await AMQPConnection.connect(url: url)
        let configuration = try ConsoleConfiguration(
            """
            listen: 127.0.0.1:0
            publicUrl: \(Self.origin)
            amqpUrl: \(url)
            coreData: core
            data: console
            signingKey: {id: console-sandbox, seed: \(Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))).base64EncodedString())}
            operators:
              - {name: Hoa, role: officer, passwordHash: "\(try Self.officerHash.get())"}
              - {name: minh, role: viewer, passwordHash: "\(try Self.viewerHash.get())"}
            """, file: "console.yaml", folder: folder)
        let console = try ConsoleServer(
            configuration: configuration, adapters: Array(bus.test.names.keys), vhost: bus.vhost,
            replay: { message, _ in
                try await consoleConnection.publish(
                    message, exchange: CoreTopology.ingressExchange, routingKey: message.properties.type ?? "", mandatory: true)
            }, logger: logger)

        // Test adapters: the registry verifies, the document system issues; the gateway makes a
        // link, and is paid only when the test says so.
        let test = bus.test
        let feeRequests = FeeRequests()
        let statuses = DossierEndToEndTests.Statuses()
        let adapters = Task {
            try await DossierEndToEndTests.runTestAdapters(test, statuses: statuses) { delivery in
                if delivery.properties.type == FeeRequestedV1.messageType {
                    let request = try FeeRequestedV1(jsonBody: Data(delivery.body))
                    feeRequests.add(request, messageID: delivery.properties.messageID ?? "")
                    try await test.send(
                        FeeLinkCreatedV1(
                            dossierId: request.dossierId, orderId: request.orderId, amount: request.amount,
                            paymentUrl: URL(string: "https://pay.example.vn/\(request.orderId)")!,
                            expiresAt: Date().addingTimeInterval(900)),
                        as: "payment", dossier: request.dossierId, answering: delivery.properties.messageID)
                } else if delivery.properties.type == FeeRefundRequestedV1.messageType {
                    feeRequests.refunded(try FeeRefundRequestedV1(jsonBody: Data(delivery.body)))
                }
            }
        }

        // Two dossiers with a fee wait for it.
        let (paid, other) = ("H01.04-261203-0001", "H01.04-261203-0002")
        for id in [paid, other] {
            var dossier = CoreFixtures.dossier
            dossier.dossierId = id
            try await test.send(dossier, as: "portal", dossier: id)
        }
        try await waitUntil("both dossiers await their fee") {
            statuses.all[paid]?.contains(.feeRequested) == true && statuses.all[other]?.contains(.feeRequested) == true
        }
        let fee = try #require(feeRequests.request(of: paid)).amount

        try await Application(router: console.router()).test(.router) { client in
            let officer = try await login(client, "Hoa", "officer-secret")
            let viewer = try await login(client, "minh", "viewer-secret")
            func pay(_ dossier: String, amount: Int, receipt: String, as session: (cookie: String, csrf: String)) async throws -> (
                HTTPResponse.Status, String
            ) {
                try await client.execute(
                    uri: "/api/dossiers/\(dossier)/counter-payment", method: .post,
                    headers: [
                        .cookie: session.cookie, .init("X-CSRF-Token")!: session.csrf, .origin: Self.origin,
                        .contentType: "application/json",
                    ],
                    body: ByteBuffer(string: #"{"receiptNumber":"\#(receipt)","amount":\#(amount)}"#)
                ) { ($0.status, String(buffer: $0.body)) }
            }

            var (status, body) = try await pay(paid, amount: fee, receipt: "BL-2026-0001", as: viewer)
            #expect(status == .forbidden, "\(body)")
            (status, body) = try await pay(other, amount: fee - 1000, receipt: "BL-2026-0002", as: officer)
            #expect(status == .unprocessableContent)
            #expect(body.contains("the fee due is \(fee) VND, not \(fee - 1000) VND"), "\(body)")
            (status, body) = try await pay("H01.04-261203-9999", amount: fee, receipt: "BL-2026-0003", as: officer)
            #expect(status == .notFound, "\(body)")

            (status, body) = try await pay(paid, amount: fee, receipt: "BL-2026-0004", as: officer)
            #expect(status == .ok, "\(body)")
            #expect(body.contains(#""officer":"Hoa""#), "\(body)")
            try await waitUntil("the counter-paid dossier completes") { statuses.all[paid]?.last == .completed }
            #expect(statuses.all[paid] == [.submitted, .identityVerified, .feeRequested, .feePaid, .documentIssued, .completed])

            // Paid once: the console says the dossier no longer waits for its fee.
            (status, body) = try await pay(paid, amount: fee, receipt: "BL-2026-0005", as: officer)
            #expect(status == .conflict)
            #expect(body.contains("is completed, not awaiting its fee"), "\(body)")
        }

        // The core refuses on its own too: a counter payment sent past the console's checks (two
        // officers at once, or a console that checked nothing) goes to the dead letters, with why.
        let signer = try CoreFixtures.sandboxSigner("console")
        for (dossier, amount) in [(paid, fee), (other, fee + 5000)] {
            let forged = try signer.sign(
                AMQPMessage(
                    body: Array(
                        try FeePaidV2.counter(
                            dossierId: dossier, orderId: "\(dossier)-FEE", amount: amount, receiptNumber: "BL-X", officer: "Hoa",
                            paidAt: Date()
                        ).jsonBody()),
                    properties: AMQPProperties(
                        contentType: "application/json", deliveryMode: .persistent, correlationID: dossier,
                        messageID: UUID().uuidString.lowercased(), timestamp: Date(), type: FeePaidV2.messageType, userID: "guest")))
            try await consoleConnection.publish(
                forged, exchange: CoreTopology.ingressExchange, routingKey: FeePaidV2.messageType, mandatory: true)
        }
        // And an adapter may not say its payment was taken at the counter.
        try await test.send(
            FeePaidV2.counter(
                dossierId: other, orderId: "\(other)-FEE", amount: fee, receiptNumber: "BL-Y", officer: "Hoa", paidAt: Date()),
            as: "payment", dossier: other, answering: feeRequests.messageID(of: other))
        let reasons = try await deadLetterReasons(on: consoleConnection, count: 3)
        #expect(reasons.contains { $0.contains("was paid at the counter already") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("the amount is not the fee due (\(fee) VND)") }, "\(reasons)")
        #expect(reasons.contains { $0.contains("recorded by an officer in the console, not by") }, "\(reasons)")

        // The citizen paid online as well, after the counter: that payment is refunded.
        try await test.send(
            FeePaidV1(
                dossierId: paid, orderId: "\(paid)-FEE", amount: fee, bankCode: "NCB", bankTransactionNumber: "88001234",
                paidAt: Date()),
            as: "payment", dossier: paid, answering: feeRequests.messageID(of: paid))
        try await waitUntil("the late payment is refunded") { feeRequests.refunds.contains { $0.dossierId == paid } }
        let refund = try #require(feeRequests.refunds.first { $0.dossierId == paid })
        #expect(refund.bankTransactionNumber == "88001234")
        #expect(refund.amount == fee)
        #expect(refund.reason.code == "paid-at-counter")

        // The audit log has the officer's name: on the console's record, and in the signed payment.
        let records = try audit.records(correlationID: paid)
        let action = try #require(records.first { $0.type == "operator.fee.paid-at-counter" })
        #expect(action.sender == "Hoa")
        let payment = try #require(records.first { $0.type == FeePaidV2.messageType })
        let signed = try FeePaidV2(jsonBody: try #require(payment.body))
        #expect(signed.officer == "Hoa")
        #expect(signed.receiptNumber == "BL-2026-0004")
        #expect(try audit.verify().firstBroken == nil)
        print("counter payment: dossier \(paid) completed, a late VNPay payment refunded; 3 forged payments dead-lettered")

        adapters.cancel()
        routing.cancel()
        await consoleConnection.close()
        await coreConnection.close()
        try await bus.tearDown()
    }

    /// The reasons of the next `count` dead letters (30 s at most).
    func deadLetterReasons(on connection: AMQPConnection, count: Int) async throws -> [String] {
        let consumer = try await connection.consume(queue: CoreTopology.deadLetterQueue, prefetch: 50)
        var reasons: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        for try await dead in consumer {
            reasons.append(dead.properties.headers?[BusHeader.errorReason]?.stringValue ?? "?")
            dead.ack()
            if reasons.count >= count || ContinuousClock.now > deadline { break }
        }
        await consumer.cancel()
        return reasons
    }

    func login(_ client: some TestClientProtocol, _ name: String, _ password: String) async throws -> (cookie: String, csrf: String) {
        try await client.execute(
            uri: "/api/login", method: .post, headers: [.contentType: "application/json", .origin: Self.origin],
            body: ByteBuffer(string: #"{"name":"\#(name)","password":"\#(password)"}"#)
        ) { response in
            let cookie = try #require(response.headers[.setCookie]?.split(separator: ";").first.map(String.init))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String])
            return (cookie, try #require(body["csrfToken"]))
        }
    }

    func waitUntil(_ what: @autoclosure () -> String, _ condition: () async throws -> Bool) async throws {
        try await CoreCrashTests().waitUntil(what(), within: .seconds(60), condition)
    }

    /// What the test gateway was asked, and the refunds it received.
    final class FeeRequests: Sendable {
        private let state = Mutex<(requests: [String: (FeeRequestedV1, String)], refunds: [FeeRefundRequestedV1])>(([:], []))

        func add(_ request: FeeRequestedV1, messageID: String) { state.withLock { $0.requests[request.dossierId] = (request, messageID) } }
        func refunded(_ refund: FeeRefundRequestedV1) { state.withLock { $0.refunds.append(refund) } }
        func request(of dossier: String) -> FeeRequestedV1? { state.withLock { $0.requests[dossier]?.0 } }
        func messageID(of dossier: String) -> String? { state.withLock { $0.requests[dossier]?.1 } }
        var refunds: [FeeRefundRequestedV1] { state.withLock { $0.refunds } }
    }
}
