import Foundation

/// Who the adapter is at VNPay and where VNPay is: the adapter's `system` and its settings
/// `tmnCode` (the merchant's terminal code), `hashSecret` and `returnUrl` (where VNPay sends the
/// citizen's browser back to, the portal's page), and `paymentPage`: the public https address of
/// the gateway's payment page that citizens open (`system` is where the adapter itself calls it,
/// which may be an internal address).
struct VNPayMerchant: Sendable {
    let gateway: URL
    let tmnCode: String
    let hashSecret: String
    let returnURL: String
    var paymentPage: URL?

    /// `path` on the gateway, e.g. `/paymentv2/vpcpay.html`.
    func endpoint(_ path: String, public: Bool = false) -> String {
        var base = (`public` ? paymentPage ?? gateway : gateway).absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }
}
