import Foundation
import GovBusContracts

/// What the adapter answers one VNPay IPN call (Instant Payment Notification) and what it
/// publishes, from the call's parameters and the order they name, checked in VNPay's order:
/// signature (97), order (01), amount (04), already settled (02), then confirmed (00) with the
/// payment's outcome. Apart from HTTP and storage, so that every answer is tested.
struct IPNDecision: Sendable, Hashable {
    /// What a confirmed call settles: the message to publish and the order's new status.
    enum Settlement: Sendable, Hashable {
        case paid(FeePaidV1)
        case failed(FeeFailedV1)

        var status: PaymentOrder.Status {
            switch self {
            case .paid: .paid
            case .failed: .failed
            }
        }
    }

    /// VNPay's `RspCode`.
    let responseCode: String
    /// VNPay's `Message`.
    let message: String
    let settlement: Settlement?

    static let invalidSignature = IPNDecision(responseCode: "97", message: "Invalid signature", settlement: nil)
    static let orderNotFound = IPNDecision(responseCode: "01", message: "Order not found", settlement: nil)
    static let invalidAmount = IPNDecision(responseCode: "04", message: "Invalid amount", settlement: nil)
    static let alreadyConfirmed = IPNDecision(responseCode: "02", message: "Order already confirmed", settlement: nil)
    static let unexpectedError = IPNDecision(responseCode: "99", message: "Unknown error", settlement: nil)

    /// - Parameters:
    ///   - parameters: the call's query; nil when it could not be read.
    ///   - order: the order of its `vnp_TxnRef`, nil when there is none.
    ///   - now: when the call came, for a failure VNPay gives no time for.
    static func decide(parameters: [String: String]?, order: PaymentOrder?, hashSecret: String, now: Date) -> IPNDecision {
        guard let parameters, VNPaySignature.isSigned(parameters, secret: hashSecret) else { return .invalidSignature }
        guard let order, parameters["vnp_TxnRef"] == order.txnRef else { return .orderNotFound }
        guard parameters["vnp_Amount"].flatMap({ Int($0) }) == order.amount * 100 else { return .invalidAmount }
        guard order.status == .pending else { return .alreadyConfirmed }

        let responseCode = parameters["vnp_ResponseCode"] ?? ""
        let payDate = parameters["vnp_PayDate"].flatMap(HanoiClock.date(fromCompact:))
        guard responseCode == "00", parameters["vnp_TransactionStatus"] == "00" else {
            let failed = FeeFailedV1(
                dossierId: order.dossierId, orderId: order.txnRef, amount: order.amount,
                reason: failureReason(responseCode: responseCode), failedAt: payDate ?? now)
            return IPNDecision(responseCode: "00", message: "Confirm Success", settlement: .failed(failed))
        }
        // A payment the bus could not carry (its schema's patterns) is answered 99: VNPay calls
        // again, and the log says why.
        guard let bankCode = parameters["vnp_BankCode"], bankCode.consists(of: 2...20, where: \.isUppercaseAlphanumeric),
            let transactionNo = parameters["vnp_TransactionNo"],
            transactionNo.consists(of: 1...64, where: \.isTransactionNumberCharacter),
            let paidAt = payDate
        else { return .unexpectedError }
        let paid = FeePaidV1(
            dossierId: order.dossierId, orderId: order.txnRef, amount: order.amount, bankCode: bankCode,
            bankTransactionNumber: transactionNo, paidAt: paidAt)
        return IPNDecision(responseCode: "00", message: "Confirm Success", settlement: .paid(paid))
    }

    /// The reason of a payment that did not go through, from VNPay's response code.
    static func failureReason(responseCode: String) -> Reason {
        switch responseCode {
        case "24": Reason(code: "payment-cancelled", message: "Người nộp đã hủy giao dịch thanh toán.")
        case "11": Reason(code: "payment-expired", message: "Đã hết thời gian chờ thanh toán.")
        default: Reason(code: "payment-failed", message: "Thanh toán không thành công (mã VNPay \(responseCode.prefix(8))).")
        }
    }
}

extension String {
    fileprivate func consists(of lengths: ClosedRange<Int>, where allowed: (UInt8) -> Bool) -> Bool {
        lengths.contains(utf8.count) && utf8.allSatisfy(allowed)
    }
}

extension UInt8 {
    fileprivate var isUppercaseAlphanumeric: Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }

    fileprivate var isTransactionNumberCharacter: Bool {
        isUppercaseAlphanumeric || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self)
            || self == UInt8(ascii: ".") || self == UInt8(ascii: "_") || self == UInt8(ascii: "-")
    }
}
