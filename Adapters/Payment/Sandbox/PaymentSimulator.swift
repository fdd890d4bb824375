import AsyncHTTPClient
import Foundation
import GovBusContracts
import Logging
import NIOCore
import NIOFoundationCompat
import Synchronization

/// The citizen and the gateway after the payment page opened: the citizen pays (or cancels, as
/// often as `failureShare` says) after the pay delay, and the gateway tells the merchant with a
/// signed IPN call, again and again like VNPay until the merchant answers RspCode 00 or 02.
final class PaymentSimulator: Sendable {
    static let attempts = 5
    static let pause = Duration.seconds(1)

    private let tmnCode: String
    private let hashSecret: String
    private let ipnURL: String
    private let ledger: GatewayLedger
    private let http: HTTPClient
    private let logger: Logger
    private let settings: Mutex<PaymentBehaviour>

    init(
        tmnCode: String, hashSecret: String, ipnURL: String, ledger: GatewayLedger, behaviour: PaymentBehaviour,
        http: HTTPClient, logger: Logger
    ) {
        self.tmnCode = tmnCode
        self.hashSecret = hashSecret
        self.ipnURL = ipnURL
        self.ledger = ledger
        self.http = http
        self.logger = logger
        settings = Mutex(behaviour)
    }

    var behaviour: PaymentBehaviour {
        get { settings.withLock { $0 } }
        set { settings.withLock { $0 = newValue } }
    }

    /// The citizen's click, simulated: it happens later, after the page has been answered.
    func schedule(txnRef: String) {
        Task { await self.pay(txnRef: txnRef) }
    }

    func pay(txnRef: String) async {
        let behaviour = self.behaviour
        try? await Task.sleep(for: .milliseconds(behaviour.payDelayMilliseconds))
        guard Double.random(in: 0..<1) >= behaviour.counterShare else {
            logger.info("the citizen pays at the counter instead", metadata: ["txnRef": "\(txnRef)"])
            return
        }
        let cancelled = Double.random(in: 0..<1) < behaviour.failureShare
        do {
            guard
                let payment = try ledger.settle(
                    txnRef: txnRef, responseCode: cancelled ? "24" : "00", bankCode: "NCB",
                    payDate: HanoiClock.compact(Date()))
            else { return }
            let query = Self.ipnQuery(for: payment, tmnCode: tmnCode, hashSecret: hashSecret, behaviour: behaviour)
            try ledger.recordIPN(txnRef: txnRef, query: query)
            if behaviour.duplicateIpn {
                async let first: Void = notify(txnRef: txnRef, query: query)
                async let second: Void = notify(txnRef: txnRef, query: query)
                _ = await (first, second)
            } else {
                await notify(txnRef: txnRef, query: query)
            }
        } catch {
            logger.error("sandbox payment not recorded", metadata: ["txnRef": "\(txnRef)", "error": "\(error)"])
        }
    }

    /// The IPN query VNPay sends for a payment, signed (with a wrong secret when `badSignature`).
    static func ipnQuery(
        for payment: GatewayLedger.Payment, tmnCode: String, hashSecret: String, behaviour: PaymentBehaviour
    ) -> String {
        var parameters = [
            "vnp_TmnCode": tmnCode,
            "vnp_Amount": String(payment.amount + (behaviour.wrongAmount ? 100_000 : 0)),
            "vnp_BankCode": payment.bankCode,
            "vnp_CardType": "ATM",
            "vnp_OrderInfo": payment.orderInfo,
            "vnp_PayDate": payment.payDate,
            "vnp_ResponseCode": payment.responseCode,
            "vnp_TransactionNo": payment.transactionNo,
            "vnp_TransactionStatus": payment.isPaid ? "00" : "02",
            "vnp_TxnRef": payment.txnRef,
        ]
        if payment.isPaid { parameters["vnp_BankTranNo"] = "VNP" + payment.transactionNo }
        let secret = behaviour.badSignature ? "not-" + hashSecret : hashSecret
        return GatewaySignature.signedQuery(parameters, secret: secret)
    }

    /// Calls the merchant's IPN URL until it confirms, or `attempts` times.
    private func notify(txnRef: String, query: String) async {
        for attempt in 1...Self.attempts {
            let answer = await call(query)
            try? ledger.recordAnswer(txnRef: txnRef, answer: answer.text)
            if answer.isConfirmed { return }
            logger.info("merchant did not confirm the IPN", metadata: ["txnRef": "\(txnRef)", "answer": "\(answer.text)"])
            if attempt < Self.attempts { try? await Task.sleep(for: Self.pause * attempt) }
        }
    }

    private struct MerchantAnswer: Decodable {
        let RspCode: String
        let Message: String?
    }

    private func call(_ query: String) async -> (text: String, isConfirmed: Bool) {
        var request = HTTPClientRequest(url: ipnURL + (ipnURL.contains("?") ? "&" : "?") + query)
        request.method = .GET
        do {
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard let answer = try? JSONDecoder().decode(MerchantAnswer.self, from: Data(buffer: body)) else {
                return ("no answer: HTTP \(response.status.code), \(String(buffer: body).prefix(200))", false)
            }
            return ("\(answer.RspCode) \(answer.Message ?? "")", ["00", "02"].contains(answer.RspCode))
        } catch {
            return ("no answer: \(error)", false)
        }
    }
}
