import Foundation
public import GovBusAdapterKit
import GovBusContracts
public import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The payment adapter, VNPay style: a fee request becomes an order and a signed payment link;
/// VNPay's IPN call (`GET /vnpay/ipn`) becomes `payment.fee.paid.v1` or `payment.fee.failed.v1`,
/// stored in the outbox before VNPay gets its answer; a refund request becomes a call on VNPay's
/// refund API.
///
/// Settings: `tmnCode`, `hashSecret`, `returnUrl`, and `paymentPageUrl` (the https address citizens
/// open; default: the system's). Orders in `payment.sqlite` of the data directory.
public struct PaymentConnector: Connector {
    private let runtime: AdapterRuntime
    private let merchant: VNPayMerchant
    private let orders: PaymentOrders
    private let gateway: ExternalSystem

    public init(runtime: AdapterRuntime) throws {
        let configuration = runtime.configuration
        merchant = VNPayMerchant(
            gateway: configuration.system, tmnCode: try configuration.setting("tmnCode"),
            hashSecret: try configuration.setting("hashSecret"), returnURL: try configuration.setting("returnUrl"),
            paymentPage: try Self.paymentPage(configuration))
        orders = try PaymentOrders(path: configuration.dataDirectory.appendingPathComponent("payment.sqlite").path)
        // A refund is a bank transaction: VNPay may take a while to answer it.
        gateway = runtime.externalSystem(named: "VNPay's refund API", policy: HTTPPolicy(timeout: .seconds(30)))
        self.runtime = runtime
    }

    public var handlers: MessageHandlers {
        MessageHandlers()
            .on(FeeRequestedV1.self) { request, message in try await createLink(for: request, causationID: message.messageID) }
            .on(FeeRefundRequestedV1.self, refund)
    }

    static func paymentPage(_ configuration: AdapterConfiguration) throws -> URL? {
        guard let text = configuration.settings["paymentPageUrl"] else { return nil }
        guard let url = URL(string: text), url.scheme == "https" else {
            throw AdapterFailure.permanent("settings.paymentPageUrl must be an https URL, not '\(text)'")
        }
        return url
    }

    public func addRoutes(to router: Router<BasicRequestContext>) {
        // VNPay reads the answer's RspCode, always with HTTP 200.
        router.get("/vnpay/ipn") { request, _ -> Response in
            let decision = await acknowledgePayment(query: request.uri.query ?? "")
            let body = try JSONEncoder().encode(["RspCode": decision.responseCode, "Message": decision.message])
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: body)))
        }
    }

    // MARK: Fee requests

    /// One order per orderId: a repeated request finds it and sends the same link with the same id.
    func createLink(for fee: FeeRequestedV1, causationID: String) async throws {
        let order = try orders.open(
            txnRef: fee.orderId, dossierId: fee.dossierId, amount: fee.amount, requestID: causationID, now: Date())
        guard order.dossierId == fee.dossierId, order.amount == fee.amount else {
            throw AdapterFailure.permanent(
                "order \(fee.orderId) exists for dossier \(order.dossierId) and \(order.amount) VND; "
                    + "it cannot be asked again for \(fee.dossierId) and \(fee.amount) VND")
        }
        let link = try PaymentLink(order: order, merchant: merchant)
        try await runtime.send(
            FeeLinkCreatedV1(
                dossierId: order.dossierId, orderId: order.txnRef, amount: order.amount, paymentUrl: link.url,
                expiresAt: link.expiresAt),
            correlationID: order.dossierId, causationID: causationID,
            messageID: runtime.derivedID(FeeLinkCreatedV1.messageType, order.txnRef))
    }

    // MARK: IPN calls

    /// Stores what the call settles in the outbox, then marks the order, before VNPay gets its
    /// answer. One id for whatever settles an order: racing or repeated calls publish once.
    func acknowledgePayment(query: String) async -> IPNDecision {
        do {
            let parameters = VNPaySignature.parseQuery(query)
            let txnRef = parameters?["vnp_TxnRef"]
            let known = try txnRef.flatMap { try orders.order(txnRef: $0) }
            let decision = IPNDecision.decide(
                parameters: parameters, order: known, hashSecret: merchant.hashSecret, now: Date())
            guard let settlement = decision.settlement, let order = known else {
                // A repeat (02) is VNPay being careful; anything else is worth a look.
                runtime.logger.log(
                    level: decision == .alreadyConfirmed ? .info : .warning, "VNPay IPN not settled",
                    metadata: ["RspCode": "\(decision.responseCode)", "txnRef": "\(txnRef ?? "")"])
                return decision
            }
            let messageID = runtime.derivedID("payment.fee.settled", order.txnRef)
            switch settlement {
            case .paid(let paid):
                try await runtime.send(paid, correlationID: order.dossierId, causationID: order.requestID, messageID: messageID)
            case .failed(let failed):
                try await runtime.send(failed, correlationID: order.dossierId, causationID: order.requestID, messageID: messageID)
            }
            try orders.settle(txnRef: order.txnRef, as: settlement.status)
            runtime.logger.info(
                "VNPay IPN confirmed", metadata: ["txnRef": "\(order.txnRef)", "status": "\(settlement.status.rawValue)"])
            return decision
        } catch {
            runtime.logger.error("VNPay IPN not recorded", metadata: ["error": "\(error)"])
            return .unexpectedError
        }
    }

    // MARK: Refunds

    func refund(_ refund: FeeRefundRequestedV1, _ message: InboxMessage) async throws {
        // VNPay finds the payment by the time the merchant recorded it; without the order (a lost
        // data directory), the payment's own time is the best there is.
        let recorded = try orders.order(txnRef: refund.orderId)
        let request = VNPayRefundRequest(
            merchant: merchant, requestID: UUID().uuidString.replacingOccurrences(of: "-", with: ""),
            txnRef: refund.orderId, amountVND: refund.amount, orderInfo: "Hoan phi ho so \(refund.dossierId)",
            transactionNo: refund.bankTransactionNumber, transactionDate: recorded?.created ?? refund.paidAt,
            createdBy: runtime.configuration.name, now: Date())
        let response = try await call(refundAPI: request, for: message)
        guard response.isRefunded else {
            throw AdapterFailure.permanent(
                "VNPay refused to refund order \(refund.orderId): \(response.responseCode) \(response.message ?? "")")
        }
        try orders.markRefunded(txnRef: refund.orderId)
        runtime.logger.info(
            "fee refunded", metadata: ["orderId": "\(refund.orderId)", "vnp_ResponseCode": "\(response.responseCode)"])
    }

    private func call(refundAPI refund: VNPayRefundRequest, for message: InboxMessage) async throws -> VNPayRefundResponse {
        let request = OutboundRequest(
            url: merchant.endpoint("/merchant_webapi/api/transaction"), headers: [("Content-Type", "application/json")],
            body: try JSONEncoder().encode(refund))
        let answer = try await gateway.send(request, for: message)
        guard let response = try? JSONDecoder().decode(VNPayRefundResponse.self, from: answer.body) else {
            throw AdapterFailure.transient("VNPay's refund API answered something that is not its JSON")
        }
        return response
    }
}
