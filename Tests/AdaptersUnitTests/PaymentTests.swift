import Foundation
import GovBusContracts
import GovBusSandboxKit
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Testing

@testable import GovBusAdapterKit
@testable import PaymentAdapter
@testable import PaymentSandbox

@Suite("Payment adapter and VNPay sandbox, without a broker")
struct PaymentTests {
    static let secret = "GOVBUSPAYMENTSANDBOXHASHSECRET01"
    static let merchant = VNPayMerchant(
        gateway: URL(string: "https://sandbox.vnpayment.example/")!, tmnCode: "GOVBUS01", hashSecret: secret,
        returnURL: "https://dichvucong.example.gov.vn/thanh-toan/ket-qua")
    /// 2025-11-21 09:30:00 in Hà Nội.
    static let created = Date(timeIntervalSince1970: 1_763_692_200)
    static let order = PaymentOrder(
        txnRef: "H01.04-251121-0007-1", dossierId: "H01.04-251121-0007", amount: 80_000, status: .pending,
        created: created)

    static func behaviour(badSignature: Bool = false, wrongAmount: Bool = false) -> PaymentBehaviour {
        var behaviour = PaymentBehaviour(payDelayMilliseconds: 0)
        behaviour.badSignature = badSignature
        behaviour.wrongAmount = wrongAmount
        return behaviour
    }

    /// An IPN query as the sandbox gateway makes it.
    static func ipnQuery(responseCode: String = "00", amount: Int = 8_000_000, behaviour: PaymentBehaviour = PaymentTests.behaviour()) -> String {
        let payment = GatewayLedger.Payment(
            txnRef: order.txnRef, amount: amount, orderInfo: "Thanh toan le phi ho so \(order.dossierId)",
            responseCode: responseCode, transactionNo: responseCode == "00" ? "14000001" : "0", bankCode: "NCB",
            payDate: "20251121093512")
        return PaymentSimulator.ipnQuery(for: payment, tmnCode: "GOVBUS01", hashSecret: secret, behaviour: behaviour)
    }

    static func decide(_ query: String, order: PaymentOrder? = order) -> IPNDecision {
        IPNDecision.decide(
            parameters: VNPaySignature.parseQuery(query), order: order, hashSecret: secret, now: Date(timeIntervalSince1970: 0))
    }

    // MARK: Signatures, amounts and times

    @Test("The payment URL: VNPay's fields, amount × 100, Hà Nội times 15 minutes apart, the HMAC-SHA512 of the sorted query")
    func paymentURL() throws {
        let link = try PaymentLink(order: Self.order, merchant: Self.merchant)
        // Hash computed apart from this code (Python's urllib.parse.quote_plus and hmac).
        let expected =
            "https://sandbox.vnpayment.example/paymentv2/vpcpay.html?vnp_Amount=8000000&vnp_Command=pay"
            + "&vnp_CreateDate=20251121093000&vnp_CurrCode=VND&vnp_ExpireDate=20251121094500&vnp_IpAddr=127.0.0.1"
            + "&vnp_Locale=vn&vnp_OrderInfo=Thanh+toan+le+phi+ho+so+H01.04-251121-0007&vnp_OrderType=other"
            + "&vnp_ReturnUrl=https%3A%2F%2Fdichvucong.example.gov.vn%2Fthanh-toan%2Fket-qua&vnp_TmnCode=GOVBUS01"
            + "&vnp_TxnRef=H01.04-251121-0007-1&vnp_Version=2.1.0&vnp_SecureHash="
            + "5edcf624f126982126ec86abb1765bdd6c0787ae5c727b12640bacc374e60213e53d2b58aed195f0b4d6182a38c4aed8a4622a8a63b67c11ed6fac77221762d6"
        #expect(link.url.absoluteString == expected)
        #expect(link.expiresAt == Self.created.addingTimeInterval(15 * 60))
    }

    @Test("The sandbox's check verifies the adapter's payment URL, and fails it when any parameter changes")
    func urlVerifiesAtTheGateway() throws {
        let link = try PaymentLink(order: Self.order, merchant: Self.merchant)
        let query = String(try #require(link.url.absoluteString.split(separator: "?", maxSplits: 1).last))
        let parameters = try #require(GatewaySignature.parameters(ofQuery: query))
        #expect(parameters["vnp_Amount"] == "8000000")
        #expect(GatewaySignature.verify(parameters, secret: Self.secret))
        #expect(!GatewaySignature.verify(parameters, secret: "another secret"))
        for name in parameters.keys where name != "vnp_SecureHash" {
            var changed = parameters
            changed[name] = parameters[name, default: ""] + "1"
            #expect(!GatewaySignature.verify(changed, secret: Self.secret), "changing \(name) must break the signature")
        }
        var added = parameters
        added["vnp_BankCode"] = "NCB"
        #expect(!GatewaySignature.verify(added, secret: Self.secret))
    }

    @Test("Both parties form-encode alike: unreserved kept, space as +, UTF-8 bytes as %XX; and decode back")
    func formEncoding() throws {
        let samples = ["Phí hồ sơ ~a*b/c d+e", "a&b=c%", "Thanh toan 50.000_VND-1"]
        #expect(VNPaySignature.formEncode(samples[0]) == "Ph%C3%AD+h%E1%BB%93+s%C6%A1+~a%2Ab%2Fc+d%2Be")
        for sample in samples {
            #expect(VNPaySignature.formEncode(sample) == GatewaySignature.urlencode(sample))
            let query = "vnp_OrderInfo=" + VNPaySignature.formEncode(sample)
            #expect(VNPaySignature.parseQuery(query)?["vnp_OrderInfo"] == sample)
            #expect(GatewaySignature.parameters(ofQuery: query)?["vnp_OrderInfo"] == sample)
        }
        #expect(VNPaySignature.parseQuery("vnp_A=%zz") == nil)
        #expect(VNPaySignature.parseQuery("vnp_A=%+1") == nil)
        #expect(VNPaySignature.parseQuery("vnp_A=1&vnp_A=2") == nil)
    }

    @Test("Times are yyyyMMddHHmmss in Asia/Ho_Chi_Minh (UTC+7), one clock for both parties; impossible dates are refused")
    func vietnamTime() {
        #expect(HanoiClock.compact(Self.created) == "20251121093000")
        #expect(HanoiClock.compact(Date(timeIntervalSince1970: 1_763_773_200)) == "20251122080000")
        #expect(HanoiClock.date(fromCompact: "20251121093000") == Self.created)
        #expect(HanoiClock.date(fromCompact: "20251131093000") == nil)
        #expect(HanoiClock.date(fromCompact: "2025112109300") == nil)
        #expect(HanoiClock.date(fromCompact: "2025-11-21T09") == nil)
    }

    @Test("The refund hash: VNPay's fields joined with | in its order, as the gateway computes it too")
    func refundHash() throws {
        let request = VNPayRefundRequest(
            merchant: Self.merchant, requestID: "0f3c9a7e5b2d4c1e8a6f0b9d7c5e3a1f", txnRef: Self.order.txnRef,
            amountVND: 80_000, orderInfo: "Hoan phi ho so H01.04-251121-0007", transactionNo: "14000001",
            transactionDate: Self.created, createdBy: "payment", now: Date(timeIntervalSince1970: 1_763_773_200))
        // Computed apart from this code (Python's hmac).
        #expect(
            request.secureHash
                == "49dba91e184c797a8bae22c3ed8b0a055f054660a053418578205df55291ea678fdb6bd242479e8409e69c212c1cefef136f32a1095fc6463451c747513867e1"
        )
        let json = try JSONEncoder().encode(request)
        let atGateway = try JSONDecoder().decode(RefundDesk.Request.self, from: json)
        #expect(atGateway.fields["vnp_Amount"] == "8000000")
        #expect(atGateway.fields["vnp_TransactionType"] == "02")
        #expect(atGateway.fields["vnp_TransactionDate"] == "20251121093000")
        let gatewayHash = GatewaySignature.apiHash(
            RefundDesk.Request.fieldsInHashOrder.map { atGateway.fields[$0, default: ""] }, secret: Self.secret)
        #expect(gatewayHash == request.secureHash)
    }

    // MARK: IPN decisions

    @Test("IPN: a bad signature is 97, checked before anything else")
    func ipnBadSignature() {
        let bad = Self.behaviour(badSignature: true)
        #expect(Self.decide(Self.ipnQuery(behaviour: bad)) == .invalidSignature)
        #expect(Self.decide(Self.ipnQuery(behaviour: bad), order: nil) == .invalidSignature)
        #expect(Self.decide("vnp_TxnRef=%zz") == .invalidSignature)
        let unsigned = Self.ipnQuery().replacingOccurrences(of: "vnp_ResponseCode=00", with: "vnp_ResponseCode=24")
        #expect(Self.decide(unsigned) == .invalidSignature)
    }

    @Test("IPN: an unknown order is 01, a wrong amount 04, an order settled before 02; none publishes")
    func ipnRefusals() {
        #expect(Self.decide(Self.ipnQuery(), order: nil) == .orderNotFound)
        #expect(Self.decide(Self.ipnQuery(behaviour: Self.behaviour(wrongAmount: true))) == .invalidAmount)
        #expect(Self.decide(Self.ipnQuery(amount: 80_000)) == .invalidAmount)
        var settled = Self.order
        settled.status = .paid
        #expect(Self.decide(Self.ipnQuery(), order: settled) == .alreadyConfirmed)
        settled.status = .failed
        #expect(Self.decide(Self.ipnQuery(responseCode: "24"), order: settled) == .alreadyConfirmed)
    }

    @Test("IPN: a payment is 00 with payment.fee.paid.v1 (bank, VNPay's transaction number, the Hà Nội pay date)")
    func ipnPaid() throws {
        let decision = Self.decide(Self.ipnQuery())
        #expect(decision.responseCode == "00")
        let paid = FeePaidV1(
            dossierId: "H01.04-251121-0007", orderId: "H01.04-251121-0007-1", amount: 80_000, bankCode: "NCB",
            bankTransactionNumber: "14000001", paidAt: Date(timeIntervalSince1970: 1_763_692_512))
        #expect(decision.settlement == .paid(paid))
        #expect(decision.settlement?.status == .paid)
    }

    @Test("IPN: a cancelled payment (24) is 00 with payment.fee.failed.v1, reason payment-cancelled")
    func ipnCancelled() throws {
        let decision = Self.decide(Self.ipnQuery(responseCode: "24"))
        #expect(decision.responseCode == "00")
        guard case .failed(let failed) = try #require(decision.settlement) else {
            Issue.record("expected a failure, got \(String(describing: decision.settlement))")
            return
        }
        #expect(failed.reason.code == "payment-cancelled")
        #expect(failed.orderId == Self.order.txnRef)
        #expect(failed.amount == 80_000)
        #expect(failed.failedAt == Date(timeIntervalSince1970: 1_763_692_512))
        #expect(IPNDecision.failureReason(responseCode: "51").code == "payment-failed")
    }

    // MARK: The adapter, with its runtime but no broker

    static func runtime(settings: String) throws -> AdapterRuntime {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("payment-tests-\(UUID().uuidString)")
        let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schemas")
        let text = """
            name: payment
            amqpUrl: amqp://payment:secret@127.0.0.1:5672/govbus
            signingKey: {id: payment-test, seed: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
            listen: 127.0.0.1:8083
            system: https://sandbox.vnpayment.example
            data: \(folder.path)
            schemas: \(schemas.path)
            settings:
            \(settings)
            """
        return try AdapterRuntime(
            configuration: AdapterConfiguration(text, file: "payment.yaml", folder: folder), logger: Logger(label: "payment-tests"))
    }

    static let settings = """
          tmnCode: GOVBUS01
          hashSecret: \(secret)
          returnUrl: "https://dichvucong.example.gov.vn/thanh-toan/ket-qua"
        """

    static func feeRequest(amount: Int = 80_000) throws -> InboxMessage {
        let fee = FeeRequestedV1(
            dossierId: order.dossierId, orderId: order.txnRef, amount: amount,
            feeItems: [FeeItem(code: "LP-HT", name: "Lệ phí hộ tịch", amount: amount)],
            payeeAccount: BankAccount(bankCode: "VCB", accountNumber: "0011001234567", accountName: "UBND PHUONG BA DINH"),
            requestedAt: created)
        return InboxMessage(
            type: FeeRequestedV1.messageType, messageID: UUID().uuidString.lowercased(), correlationID: order.dossierId,
            body: try fee.jsonBody(), previousDeliveries: 0)
    }

    @Test("The adapter will not start without its settings")
    func missingSettings() throws {
        let runtime = try Self.runtime(settings: "  tmnCode: GOVBUS01")
        #expect(throws: (any Error).self) { try PaymentConnector(runtime: runtime) }
    }

    @Test("A fee request makes one order and one link message; repeated, the same id; another amount is refused")
    func feeRequests() async throws {
        let runtime = try Self.runtime(settings: Self.settings)
        let connector = try PaymentConnector(runtime: runtime)
        try await connector.handle(try Self.feeRequest())
        try await connector.handle(try Self.feeRequest())
        let entries = try runtime.outbox.pending()
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        #expect(entry.type == FeeLinkCreatedV1.messageType)
        #expect(entry.messageID == runtime.derivedID(FeeLinkCreatedV1.messageType, Self.order.txnRef))
        let link = try FeeLinkCreatedV1(jsonBody: entry.body)
        #expect(link.amount == 80_000)
        #expect(link.paymentUrl.absoluteString.hasPrefix("https://sandbox.vnpayment.example/paymentv2/vpcpay.html?"))
        #expect(link.paymentUrl.absoluteString.contains("vnp_Amount=8000000"))
        #expect(link.expiresAt.timeIntervalSince(Date()) > 14 * 60)

        await #expect(throws: AdapterFailure.self) { try await connector.handle(try Self.feeRequest(amount: 90_000)) }
        let unknown = InboxMessage(
            type: "payment.fee.unknown.v1", messageID: UUID().uuidString, correlationID: "X", body: Data("{}".utf8),
            previousDeliveries: 0)
        await #expect(throws: AdapterFailure.self) { try await connector.handle(unknown) }
    }

    @Test("GET /vnpay/ipn: stores the outcome once, then answers 00; a repeat 02; bad calls 97, 01, 04 and store nothing")
    func ipnRoute() async throws {
        let runtime = try Self.runtime(settings: Self.settings)
        let connector = try PaymentConnector(runtime: runtime)
        try await connector.handle(try Self.feeRequest())
        let router = Router(context: BasicRequestContext.self)
        connector.addRoutes(to: router)

        @Sendable func answer(_ client: some TestClientProtocol, _ query: String) async throws -> String? {
            try await client.execute(uri: "/vnpay/ipn?" + query, method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))
                return body["RspCode"]
            }
        }
        let bad = Self.behaviour(badSignature: true)
        let wrong = Self.behaviour(wrongAmount: true)
        let otherOrder = Self.ipnQuery().replacingOccurrences(of: "H01.04-251121-0007-1", with: "H01.04-251121-0007-2")

        try await Application(router: router).test(.router) { client in
            let answer1 = try await answer(client, Self.ipnQuery(behaviour: bad))
            #expect(answer1 == "97")
            let answer2 = try await answer(client, otherOrder)
            #expect(answer2 == "97")
            let answer3 = try await answer(client, Self.ipnQuery(behaviour: wrong))
            #expect(answer3 == "04")
            let stored = try runtime.outbox.count
            #expect(stored == 1)

            let answer4 = try await answer(client, Self.ipnQuery())
            #expect(answer4 == "00")
            let answer5 = try await answer(client, Self.ipnQuery())
            #expect(answer5 == "02")
            let answer6 = try await answer(client, Self.ipnQuery(responseCode: "24"))
            #expect(answer6 == "02")
        }
        let settled = try runtime.outbox.pending().filter { $0.type != FeeLinkCreatedV1.messageType }
        #expect(settled.map(\.type) == [FeePaidV1.messageType])
        #expect(settled.first?.messageID == runtime.derivedID("payment.fee.settled", Self.order.txnRef))
        let paid = try FeePaidV1(jsonBody: try #require(settled.first).body)
        #expect(paid.bankTransactionNumber == "14000001")
        #expect(paid.amount == 80_000)
    }

    @Test("GET /vnpay/ipn: an IPN for an order the adapter never made is 01")
    func ipnUnknownOrder() async throws {
        let runtime = try Self.runtime(settings: Self.settings)
        let connector = try PaymentConnector(runtime: runtime)
        let router = Router(context: BasicRequestContext.self)
        connector.addRoutes(to: router)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/vnpay/ipn?" + Self.ipnQuery(), method: .get) { response in
                let body = try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))
                #expect(body["RspCode"] == "01")
            }
        }
        #expect(try runtime.outbox.count == 0)
    }

    // MARK: The sandbox over HTTP

    static func sandboxOptions(payDelay: Duration = .seconds(3600)) -> PaymentSandbox.Options {
        PaymentSandbox.Options(
            dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("payment-sandbox-\(UUID().uuidString)"),
            tmnCode: "GOVBUS01", hashSecret: secret,
            // Nothing listens there: the gateway's IPN calls fail, which these tests do not need.
            ipnURL: "http://127.0.0.1:9/vnpay/ipn", payDelay: payDelay)
    }

    /// A payment URL's path and query, made by the adapter for an order created at `created`.
    static func paymentPath(created: Date = Date()) throws -> String {
        let fresh = PaymentOrder(
            txnRef: order.txnRef, dossierId: order.dossierId, amount: order.amount, status: .pending, created: created)
        let url = try PaymentLink(order: fresh, merchant: merchant).url.absoluteString
        return "/paymentv2/vpcpay.html?" + String(try #require(url.split(separator: "?", maxSplits: 1).last))
    }

    @Test("The sandbox's payment page: 400 with the reason for a bad signature, missing fields or an expired link; 200 for a good one")
    func paymentPage() async throws {
        let app = try await PaymentSandbox.application(
            options: Self.sandboxOptions(), faults: SandboxFaults(), logger: Logger(label: "payment-sandbox-tests"))
        let good = try Self.paymentPath()
        let expired = try Self.paymentPath(created: Date().addingTimeInterval(-3600))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"up"}"#)
            }
            let tampered = good.replacingOccurrences(of: "vnp_Amount=8000000", with: "vnp_Amount=100")
            #expect(tampered != good)
            try await client.execute(uri: tampered, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("vnp_SecureHash"))
            }
            try await client.execute(uri: "/paymentv2/vpcpay.html?vnp_TxnRef=X", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("missing parameters"))
            }
            try await client.execute(uri: expired, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("expired"))
            }
            try await client.execute(uri: good, method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(Self.order.txnRef))
            }
            try await client.execute(uri: "/_sandbox/orders/\(Self.order.txnRef)", method: .get) { response in
                #expect(response.status == .ok)
                let order = try JSONDecoder().decode(GatewayLedger.Order.self, from: Data(buffer: response.body))
                #expect(order.amount == 8_000_000)
                #expect(order.status == "pending")
            }
            try await client.execute(uri: "/_sandbox/orders/NOPE-1", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("PUT /_sandbox/payment sets how payments go and refuses what cannot be")
    func behaviourRoute() async throws {
        let app = try await PaymentSandbox.application(
            options: Self.sandboxOptions(), faults: SandboxFaults(), logger: Logger(label: "payment-sandbox-tests"))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/_sandbox/payment", method: .put, body: ByteBuffer(string: #"{"failureShare":2}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(
                uri: "/_sandbox/payment", method: .put, body: ByteBuffer(string: #"{"failureShare":0.25,"duplicateIpn":true}"#)
            ) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/_sandbox/payment", method: .get) { response in
                let behaviour = try JSONDecoder().decode(PaymentBehaviour.self, from: Data(buffer: response.body))
                #expect(behaviour.failureShare == 0.25)
                #expect(behaviour.duplicateIpn)
                #expect(!behaviour.badSignature)
                #expect(behaviour.payDelayMilliseconds == 200)
            }
        }
    }

    @Test("The sandbox pays, its IPN passes the adapter's checks, and its refund API answers 00, then 94, 97, 91")
    func paymentAndRefund() async throws {
        let app = try await PaymentSandbox.application(
            options: Self.sandboxOptions(payDelay: .zero), faults: SandboxFaults(),
            logger: Logger(label: "payment-sandbox-tests"))
        try await app.test(.router) { client in
            try await client.execute(uri: try Self.paymentPath(), method: .get) { response in
                #expect(response.status == .ok)
            }
            var gatewayOrder: GatewayLedger.Order?
            for _ in 0..<200 where gatewayOrder?.ipnQuery == nil {
                try await Task.sleep(for: .milliseconds(10))
                gatewayOrder = try await client.execute(uri: "/_sandbox/orders/\(Self.order.txnRef)", method: .get) {
                    response in try JSONDecoder().decode(GatewayLedger.Order.self, from: Data(buffer: response.body))
                }
            }
            let paid = try #require(gatewayOrder)
            #expect(paid.status == "paid")
            let transactionNo = try #require(paid.transactionNo)

            let decision = Self.decide(try #require(paid.ipnQuery))
            #expect(decision.responseCode == "00")
            guard case .paid(let message) = try #require(decision.settlement) else {
                Issue.record("expected a payment")
                return
            }
            #expect(message.bankTransactionNumber == transactionNo)

            func refund(txnRef: String = Self.order.txnRef, secret: String = Self.secret) async throws -> String {
                let merchant = VNPayMerchant(
                    gateway: Self.merchant.gateway, tmnCode: "GOVBUS01", hashSecret: secret, returnURL: Self.merchant.returnURL)
                let request = VNPayRefundRequest(
                    merchant: merchant, requestID: UUID().uuidString.replacingOccurrences(of: "-", with: ""), txnRef: txnRef,
                    amountVND: 80_000, orderInfo: "Hoan phi", transactionNo: transactionNo, transactionDate: Date(),
                    createdBy: "payment", now: Date())
                return try await client.execute(
                    uri: "/merchant_webapi/api/transaction", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(data: try JSONEncoder().encode(request))
                ) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode(VNPayRefundResponse.self, from: Data(buffer: response.body)).responseCode
                }
            }
            #expect(try await refund(secret: "wrong") == "97")
            #expect(try await refund(txnRef: "H01.04-251121-0007-9") == "91")
            #expect(try await refund() == "00")
            #expect(try await refund() == "94")
            try await client.execute(
                uri: "/merchant_webapi/api/transaction", method: .post, body: ByteBuffer(string: #"{"vnp_Command":"refund"}"#)
            ) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/_sandbox/orders/\(Self.order.txnRef)", method: .get) { response in
                let order = try JSONDecoder().decode(GatewayLedger.Order.self, from: Data(buffer: response.body))
                #expect(order.refundedAmount == 8_000_000)
            }
        }
    }
}
