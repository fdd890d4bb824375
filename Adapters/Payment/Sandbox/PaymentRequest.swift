import Foundation
import GovBusContracts
import Hummingbird

/// What a merchant's payment URL asks the gateway (`GET /paymentv2/vpcpay.html?vnp_...`), checked
/// as VNPay checks it: every field there, the signature right, the merchant known, the link not
/// expired. A refusal is a 400 with the reason.
struct PaymentRequest: Sendable, Hashable {
    static let requiredParameters = [
        "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_Amount", "vnp_CurrCode", "vnp_TxnRef", "vnp_OrderInfo",
        "vnp_OrderType", "vnp_Locale", "vnp_ReturnUrl", "vnp_IpAddr", "vnp_CreateDate", "vnp_SecureHash",
    ]

    let txnRef: String
    /// VND × 100.
    let amount: Int
    let orderInfo: String

    init(query: String, tmnCode: String, hashSecret: String, now: Date) throws {
        guard let parameters = GatewaySignature.parameters(ofQuery: query) else {
            throw HTTPError(.badRequest, message: "the query is not form-encoded UTF-8, or names a parameter twice")
        }
        let missing = Self.requiredParameters.filter { parameters[$0, default: ""].isEmpty }
        guard missing.isEmpty else {
            throw HTTPError(.badRequest, message: "missing parameters: \(missing.joined(separator: ", "))")
        }
        guard GatewaySignature.verify(parameters, secret: hashSecret) else {
            throw HTTPError(.badRequest, message: "vnp_SecureHash does not sign these parameters (VNPay code 70)")
        }
        guard parameters["vnp_TmnCode"] == tmnCode else {
            throw HTTPError(.badRequest, message: "unknown merchant vnp_TmnCode '\(parameters["vnp_TmnCode", default: ""])'")
        }
        guard parameters["vnp_Version"] == "2.1.0", parameters["vnp_Command"] == "pay", parameters["vnp_CurrCode"] == "VND"
        else {
            throw HTTPError(.badRequest, message: "this gateway takes vnp_Version 2.1.0, vnp_Command pay, vnp_CurrCode VND")
        }
        guard let amount = parameters["vnp_Amount"].flatMap({ Int($0) }), amount > 0, amount % 100 == 0 else {
            throw HTTPError(.badRequest, message: "vnp_Amount must be a positive whole VND amount times 100")
        }
        guard parameters["vnp_CreateDate"].flatMap(HanoiClock.date(fromCompact:)) != nil else {
            throw HTTPError(.badRequest, message: "vnp_CreateDate must be yyyyMMddHHmmss")
        }
        if let expiry = parameters["vnp_ExpireDate"] {
            guard let expiresAt = HanoiClock.date(fromCompact: expiry) else {
                throw HTTPError(.badRequest, message: "vnp_ExpireDate must be yyyyMMddHHmmss")
            }
            guard expiresAt > now else {
                throw HTTPError(.badRequest, message: "the payment link expired at \(expiry) (VNPay code 11)")
            }
        }
        txnRef = parameters["vnp_TxnRef", default: ""]
        self.amount = amount
        orderInfo = parameters["vnp_OrderInfo", default: ""]
    }

    /// The page the citizen sees while the sandbox pays by itself.
    func page(payingAfterMilliseconds delay: Int, isNew: Bool) -> String {
        let status =
            isNew
            ? "Thanh toán sẽ hoàn tất sau \(delay) ms (sandbox)."
            : "Đơn hàng này đã được mở trước đó."
        return """
            <!doctype html>
            <html lang="vi"><head><meta charset="utf-8"><title>VNPAY sandbox</title></head>
            <body>
            <h1>Cổng thanh toán (sandbox)</h1>
            <p>Đơn hàng <b>\(Self.escaped(txnRef))</b>: \(amount / 100) VND</p>
            <p>\(Self.escaped(orderInfo))</p>
            <p>\(status)</p>
            </body></html>
            """
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
