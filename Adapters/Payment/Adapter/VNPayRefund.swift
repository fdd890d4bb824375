import Foundation
import GovBusContracts

/// A call on VNPay's merchant web API that refunds a payment in full
/// (`POST /merchant_webapi/api/transaction`, `vnp_Command=refund`, `vnp_TransactionType=02`).
struct VNPayRefundRequest: Encodable, Sendable, Hashable {
    static let version = "2.1.0"
    static let command = "refund"
    static let fullRefund = "02"
    static let serverAddress = "127.0.0.1"

    let requestID: String
    let tmnCode: String
    let txnRef: String
    /// VND × 100, as VNPay counts.
    let amount: String
    let orderInfo: String
    let transactionNo: String
    /// When the merchant recorded the payment (the order's `vnp_CreateDate`), `yyyyMMddHHmmss`.
    let transactionDate: String
    let createdBy: String
    let createDate: String
    let secureHash: String

    init(
        merchant: VNPayMerchant, requestID: String, txnRef: String, amountVND: Int, orderInfo: String,
        transactionNo: String, transactionDate: Date, createdBy: String, now: Date
    ) {
        let amount = String(amountVND * 100)
        let transactionDate = HanoiClock.compact(transactionDate)
        let createDate = HanoiClock.compact(now)
        self.requestID = requestID
        tmnCode = merchant.tmnCode
        self.txnRef = txnRef
        self.amount = amount
        self.orderInfo = orderInfo
        self.transactionNo = transactionNo
        self.transactionDate = transactionDate
        self.createdBy = createdBy
        self.createDate = createDate
        secureHash = VNPaySignature.apiHash(
            [
                requestID, Self.version, Self.command, merchant.tmnCode, Self.fullRefund, txnRef, amount, transactionNo,
                transactionDate, createdBy, createDate, Self.serverAddress, orderInfo,
            ],
            secret: merchant.hashSecret)
    }

    enum CodingKeys: String, CodingKey {
        case requestID = "vnp_RequestId", version = "vnp_Version", command = "vnp_Command", tmnCode = "vnp_TmnCode"
        case transactionType = "vnp_TransactionType", txnRef = "vnp_TxnRef", amount = "vnp_Amount"
        case orderInfo = "vnp_OrderInfo", transactionNo = "vnp_TransactionNo", transactionDate = "vnp_TransactionDate"
        case createdBy = "vnp_CreateBy", createDate = "vnp_CreateDate", ipAddress = "vnp_IpAddr"
        case secureHash = "vnp_SecureHash"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(Self.version, forKey: .version)
        try container.encode(Self.command, forKey: .command)
        try container.encode(tmnCode, forKey: .tmnCode)
        try container.encode(Self.fullRefund, forKey: .transactionType)
        try container.encode(txnRef, forKey: .txnRef)
        try container.encode(amount, forKey: .amount)
        try container.encode(orderInfo, forKey: .orderInfo)
        try container.encode(transactionNo, forKey: .transactionNo)
        try container.encode(transactionDate, forKey: .transactionDate)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createDate, forKey: .createDate)
        try container.encode(Self.serverAddress, forKey: .ipAddress)
        try container.encode(secureHash, forKey: .secureHash)
    }
}

/// VNPay's answer to a refund: `00` refunded, `94` a refund of this payment exists already, any
/// other code a refusal.
struct VNPayRefundResponse: Decodable, Sendable {
    let responseCode: String
    let message: String?

    enum CodingKeys: String, CodingKey {
        case responseCode = "vnp_ResponseCode", message = "vnp_Message"
    }

    var isRefunded: Bool { responseCode == "00" || responseCode == "94" }
}
