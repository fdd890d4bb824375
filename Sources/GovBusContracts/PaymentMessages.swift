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
