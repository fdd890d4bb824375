import AsyncHTTPClient
public import Foundation
public import GovBusSandboxKit
public import Hummingbird
public import Logging
import NIOCore
import NIOFoundationCompat

/// A VNPay-style bank payment gateway, for demos and tests.
///
/// VNPay's routes (the faults of `/_sandbox/faults` apply to them):
/// - `GET /paymentv2/vpcpay.html?vnp_...&vnp_SecureHash=...`: the page the citizen's browser opens.
///   A 400 with the reason when a field is missing, the signature is wrong, the merchant unknown or
///   the link expired; else the order is recorded, a small HTML page answered, and after the pay
///   delay the citizen pays (or cancels) and the merchant's IPN URL gets a signed call, repeated
///   until it answers RspCode 00 or 02.
/// - `POST /merchant_webapi/api/transaction` with VNPay's refund JSON: answered with
///   `vnp_ResponseCode` (see `RefundDesk`); 400 when the body is not that JSON.
///
/// The sandbox's own routes:
/// - `GET /health`: `{"status":"up"}`.
/// - `GET` and `PUT /_sandbox/payment`: how payments go (`PaymentBehaviour`: `failureShare`,
///   `badSignature`, `wrongAmount`, `duplicateIpn`, `payDelayMilliseconds`).
/// - `GET /_sandbox/orders/:txnRef`: the order as the gateway sees it: status, transaction number,
///   the IPN query sent and the merchant's answers, the refund (404 when unknown).
/// - `GET` and `PUT /_sandbox/faults`.
public enum PaymentSandbox {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        /// Where the gateway keeps its books (`payment-sandbox.sqlite`).
        public var dataDirectory: URL
        /// The merchant the gateway knows: the adapter's settings `tmnCode` and `hashSecret`.
        public var tmnCode: String
        public var hashSecret: String
        /// The merchant's IPN URL: the payment adapter's `GET /vnpay/ipn`.
        public var ipnURL: String
        /// How long after the page opens the citizen has paid (changed later with `/_sandbox/payment`).
        public var payDelay: Duration

        public init(
            host: String = "127.0.0.1", port: Int = 9083,
            dataDirectory: URL = URL(fileURLWithPath: "var/payment-sandbox"),
            tmnCode: String = "GOVBUS01", hashSecret: String = "GOVBUSPAYMENTSANDBOXHASHSECRET01",
            ipnURL: String = "http://127.0.0.1:8083/vnpay/ipn", payDelay: Duration = .milliseconds(200)
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.tmnCode = tmnCode
            self.hashSecret = hashSecret
            self.ipnURL = ipnURL
            self.payDelay = payDelay
        }
    }

    public static func application(
        options: Options, faults: SandboxFaults, logger: Logger
    ) async throws -> some ApplicationProtocol {
        try FileManager.default.createDirectory(at: options.dataDirectory, withIntermediateDirectories: true)
        let ledger = try GatewayLedger(path: options.dataDirectory.appendingPathComponent("payment-sandbox.sqlite").path)
        let (seconds, attoseconds) = options.payDelay.components
        let simulator = PaymentSimulator(
            tmnCode: options.tmnCode, hashSecret: options.hashSecret, ipnURL: options.ipnURL, ledger: ledger,
            behaviour: PaymentBehaviour(payDelayMilliseconds: Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)),
            http: HTTPClient.shared, logger: logger)

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: faults.middleware())
        faults.addRoutes(to: router)
        router.get("/health") { _, _ in try SandboxResponse.json(["status": "up"]) }

        router.get("/paymentv2/vpcpay.html") { request, _ -> Response in
            let payment = try PaymentRequest(
                query: request.uri.query ?? "", tmnCode: options.tmnCode, hashSecret: options.hashSecret, now: Date())
            let isNew: Bool
            do {
                isNew = try ledger.open(txnRef: payment.txnRef, amount: payment.amount, orderInfo: payment.orderInfo)
            } catch let refusal as LedgerRefusal {
                throw HTTPError(.badRequest, message: refusal.reason)
            }
            if isNew { simulator.schedule(txnRef: payment.txnRef) }
            let page = payment.page(payingAfterMilliseconds: simulator.behaviour.payDelayMilliseconds, isNew: isNew)
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }

        router.post("/merchant_webapi/api/transaction") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            let refund: RefundDesk.Request
            do {
                refund = try JSONDecoder().decode(RefundDesk.Request.self, from: Data(buffer: body))
            } catch DecodingError.keyNotFound(let key, _) {
                throw HTTPError(.badRequest, message: "the refund request has no \(key.stringValue)")
            } catch {
                throw HTTPError(.badRequest, message: "expected VNPay's refund request: a JSON object of vnp_ fields")
            }
            return try SandboxResponse.json(
                RefundDesk.answer(refund, tmnCode: options.tmnCode, hashSecret: options.hashSecret, ledger: ledger))
        }

        router.get("/_sandbox/payment") { _, _ in try SandboxResponse.json(simulator.behaviour) }
        router.put("/_sandbox/payment") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let behaviour = try? JSONDecoder().decode(PaymentBehaviour.self, from: Data(buffer: body)) else {
                throw HTTPError(
                    .badRequest,
                    message: "expected {failureShare (0-1), badSignature, wrongAmount, duplicateIpn, payDelayMilliseconds, counterShare (0-1)}")
            }
            if let problem = behaviour.problem { throw HTTPError(.badRequest, message: problem) }
            simulator.behaviour = behaviour
            return try SandboxResponse.json(behaviour)
        }
        router.get("/_sandbox/orders/:txnRef") { _, context -> Response in
            let txnRef = try context.parameters.require("txnRef")
            guard let order = try ledger.order(txnRef: txnRef) else {
                throw HTTPError(.notFound, message: "the gateway has no order \(txnRef)")
            }
            return try SandboxResponse.json(order)
        }

        return Application(
            router: router,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "govbus-payment-sandbox"),
            logger: logger)
    }
}
