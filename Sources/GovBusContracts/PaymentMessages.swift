public import Foundation

/// core → payment: collect the dossier's fee into the agency's account.
public struct FeeRequestedV1: GovBusMessage {
    public static let messageType = "payment.fee.requested.v1"

    public var dossierId: String
    public var orderId: String
    /// VND.
    public var amount: Int
    public var feeItems: [FeeItem]
    public var payeeAccount: BankAccount
    public var requestedAt: Date

    public init(
        dossierId: String, orderId: String, amount: Int, feeItems: [FeeItem], payeeAccount: BankAccount,
        requestedAt: Date
    ) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.feeItems = feeItems
        self.payeeAccount = payeeAccount
        self.requestedAt = requestedAt
    }
}

/// payment → core: the gateway made a payment link for the citizen.
public struct FeeLinkCreatedV1: GovBusMessage {
    public static let messageType = "payment.fee.link-created.v1"

    public var dossierId: String
    public var orderId: String
    public var amount: Int
    public var paymentUrl: URL
    public var expiresAt: Date

    public init(dossierId: String, orderId: String, amount: Int, paymentUrl: URL, expiresAt: Date) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.paymentUrl = paymentUrl
        self.expiresAt = expiresAt
    }
}

/// payment → core: the citizen paid.
public struct FeePaidV1: GovBusMessage {
    public static let messageType = "payment.fee.paid.v1"

    public var dossierId: String
    public var orderId: String
    public var amount: Int
    public var bankCode: String
    public var bankTransactionNumber: String
    public var paidAt: Date

    public init(
        dossierId: String, orderId: String, amount: Int, bankCode: String, bankTransactionNumber: String, paidAt: Date
    ) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.bankCode = bankCode
        self.bankTransactionNumber = bankTransactionNumber
        self.paidAt = paidAt
    }
}

/// payment or operators' console → core: the fee was paid, through the gateway (as v1) or in cash
/// at the one-stop counter, where an officer took it and gave a receipt.
public struct FeePaidV2: GovBusMessage {
    public static let messageType = "payment.fee.paid.v2"

    public enum Channel: String, Codable, Sendable, Hashable {
        case vnpay
        case counter
    }

    public var dossierId: String
    public var orderId: String
    public var amount: Int
    public var channel: Channel
    /// The gateway's, when `channel` is vnpay.
    public var bankCode: String?
    public var bankTransactionNumber: String?
    /// The counter's, when `channel` is counter: its receipt, and the officer who took the cash.
    public var receiptNumber: String?
    public var officer: String?
    public var paidAt: Date

    public init(
        dossierId: String, orderId: String, amount: Int, channel: Channel, bankCode: String? = nil,
        bankTransactionNumber: String? = nil, receiptNumber: String? = nil, officer: String? = nil, paidAt: Date
    ) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.channel = channel
        self.bankCode = bankCode
        self.bankTransactionNumber = bankTransactionNumber
        self.receiptNumber = receiptNumber
        self.officer = officer
        self.paidAt = paidAt
    }

    /// A cash payment at the counter.
    public static func counter(
        dossierId: String, orderId: String, amount: Int, receiptNumber: String, officer: String, paidAt: Date
    ) -> FeePaidV2 {
        FeePaidV2(
            dossierId: dossierId, orderId: orderId, amount: amount, channel: .counter, receiptNumber: receiptNumber,
            officer: officer, paidAt: paidAt)
    }

    /// The gateway's payment in v1's form, which a dossier keeps; nil for a counter payment.
    public var gatewayPayment: FeePaidV1? {
        guard channel == .vnpay, let bankCode, let bankTransactionNumber else { return nil }
        return FeePaidV1(
            dossierId: dossierId, orderId: orderId, amount: amount, bankCode: bankCode,
            bankTransactionNumber: bankTransactionNumber, paidAt: paidAt)
    }
}

/// payment → core: the payment failed or expired.
public struct FeeFailedV1: GovBusMessage {
    public static let messageType = "payment.fee.failed.v1"

    public var dossierId: String
    public var orderId: String
    public var amount: Int
    public var reason: Reason
    public var failedAt: Date

    public init(dossierId: String, orderId: String, amount: Int, reason: Reason, failedAt: Date) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.reason = reason
        self.failedAt = failedAt
    }
}

/// core → payment: pay back a fee of a dossier that then failed.
public struct FeeRefundRequestedV1: GovBusMessage {
    public static let messageType = "payment.fee.refund-requested.v1"

    public var dossierId: String
    public var orderId: String
    public var amount: Int
    public var bankTransactionNumber: String
    /// When the refunded payment was made: gateways need it to find the transaction.
    public var paidAt: Date
    public var reason: Reason
    public var requestedAt: Date

    public init(
        dossierId: String, orderId: String, amount: Int, bankTransactionNumber: String, paidAt: Date,
        reason: Reason, requestedAt: Date
    ) {
        self.dossierId = dossierId
        self.orderId = orderId
        self.amount = amount
        self.bankTransactionNumber = bankTransactionNumber
        self.paidAt = paidAt
        self.reason = reason
        self.requestedAt = requestedAt
    }
}
