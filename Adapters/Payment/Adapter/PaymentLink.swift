import Foundation
import GovBusAdapterKit
import GovBusContracts

/// The VNPay payment page URL of an order (`vnp_Command=pay`), signed, open for 15 minutes from
/// the order's creation. Made from the stored order only, so the same order gives the same link.
struct PaymentLink: Sendable, Hashable {
    static let lifetime: TimeInterval = 15 * 60

    let url: URL
    let expiresAt: Date

    init(order: PaymentOrder, merchant: VNPayMerchant) throws {
        expiresAt = order.created.addingTimeInterval(Self.lifetime)
        let parameters = [
            "vnp_Version": "2.1.0",
            "vnp_Command": "pay",
            "vnp_TmnCode": merchant.tmnCode,
            "vnp_Amount": String(order.amount * 100),
            "vnp_CurrCode": "VND",
            "vnp_TxnRef": order.txnRef,
            // VNPay asks for order info without Vietnamese diacritics.
            "vnp_OrderInfo": "Thanh toan le phi ho so \(order.dossierId)",
            "vnp_OrderType": "other",
            "vnp_Locale": "vn",
            "vnp_ReturnUrl": merchant.returnURL,
            // The citizen's address is the portal's to know; the adapter only makes the link.
            "vnp_IpAddr": "127.0.0.1",
            "vnp_CreateDate": HanoiClock.compact(order.created),
            "vnp_ExpireDate": HanoiClock.compact(expiresAt),
        ]
        let text = merchant.endpoint("/paymentv2/vpcpay.html", public: true) + "?"
            + VNPaySignature.signedQuery(parameters, secret: merchant.hashSecret)
        guard let url = URL(string: text) else {
            throw AdapterFailure.permanent("the system URL '\(merchant.gateway)' does not make a valid payment URL")
        }
        self.url = url
    }
}
