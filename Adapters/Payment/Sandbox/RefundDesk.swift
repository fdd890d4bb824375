import Foundation
import GovBusContracts

/// VNPay's refund API (`POST /merchant_webapi/api/transaction`, `vnp_Command=refund`): the JSON
/// request, its checks and the answer's `vnp_ResponseCode`: 00 refunded, 02 unknown merchant,
/// 03 a field not as VNPay wants it (or more than was paid), 91 no such transaction, 94 refunded
/// before, 95 the transaction was not paid, 97 wrong signature.
enum RefundDesk {
    /// The request's fields, text as VNPay sends them (a number is taken too).
    struct Request: Decodable, Sendable {
        static let fieldsInHashOrder = [
            "vnp_RequestId", "vnp_Version", "vnp_Command", "vnp_TmnCode", "vnp_TransactionType", "vnp_TxnRef",
            "vnp_Amount", "vnp_TransactionNo", "vnp_TransactionDate", "vnp_CreateBy", "vnp_CreateDate", "vnp_IpAddr",
            "vnp_OrderInfo",
        ]

        let fields: [String: String]
        let secureHash: String

        private struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            func text(_ name: String) throws -> String {
                let key = Key(stringValue: name)
                if let number = try? container.decode(Int.self, forKey: key) { return String(number) }
                return try container.decode(String.self, forKey: key)
            }
            var fields: [String: String] = [:]
            for name in Self.fieldsInHashOrder { fields[name] = try text(name) }
            self.fields = fields
            secureHash = try text("vnp_SecureHash")
        }
    }

    struct Answer: Encodable, Sendable, Hashable {
        let vnp_ResponseId: String
        let vnp_Command: String
        let vnp_ResponseCode: String
        let vnp_Message: String
        let vnp_TmnCode: String
        let vnp_TxnRef: String
        let vnp_Amount: String
        let vnp_TransactionNo: String
        let vnp_TransactionType: String
    }

    static func answer(_ request: Request, tmnCode: String, hashSecret: String, ledger: GatewayLedger) throws -> Answer {
        let fields = request.fields
        func reply(_ code: String, _ message: String) -> Answer {
            Answer(
                vnp_ResponseId: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                vnp_Command: "refund", vnp_ResponseCode: code, vnp_Message: message,
                vnp_TmnCode: fields["vnp_TmnCode", default: ""], vnp_TxnRef: fields["vnp_TxnRef", default: ""],
                vnp_Amount: fields["vnp_Amount", default: ""], vnp_TransactionNo: fields["vnp_TransactionNo", default: ""],
                vnp_TransactionType: fields["vnp_TransactionType", default: ""])
        }
        guard fields["vnp_TmnCode"] == tmnCode else { return reply("02", "Unknown merchant") }
        let hash = GatewaySignature.apiHash(Request.fieldsInHashOrder.map { fields[$0, default: ""] }, secret: hashSecret)
        guard request.secureHash.lowercased() == hash else { return reply("97", "Invalid checksum") }
        guard fields["vnp_Version"] == "2.1.0", fields["vnp_Command"] == "refund",
            ["02", "03"].contains(fields["vnp_TransactionType"]),
            fields["vnp_TransactionDate"].flatMap(HanoiClock.date(fromCompact:)) != nil,
            fields["vnp_CreateDate"].flatMap(HanoiClock.date(fromCompact:)) != nil,
            let amount = fields["vnp_Amount"].flatMap({ Int($0) }), amount > 0
        else { return reply("03", "Invalid data format") }
        switch try ledger.refund(
            txnRef: fields["vnp_TxnRef", default: ""], transactionNo: fields["vnp_TransactionNo", default: ""],
            amount: amount, requestID: fields["vnp_RequestId", default: ""])
        {
        case .refunded: return reply("00", "Refund success")
        case .refundedBefore: return reply("94", "A refund of this transaction exists")
        case .unknownTransaction: return reply("91", "Transaction not found")
        case .notPaid: return reply("95", "The transaction was not paid")
        case .amountAbovePayment: return reply("03", "The refund is more than the payment")
        }
    }
}
