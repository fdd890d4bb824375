import Foundation
import GRDB
import GovBusSandboxKit

/// The sandbox gateway's books, in SQLite (`payment-sandbox.sqlite` in its data directory): the
/// orders merchants opened, how they were paid, the IPN calls and what the merchant answered, and
/// the refunds.
final class GatewayLedger: Sendable {
    /// An order as the gateway sees it, as `GET /_sandbox/orders/:txnRef` shows it.
    struct Order: Codable, Sendable, Hashable {
        let txnRef: String
        /// VND × 100, as VNPay counts.
        let amount: Int
        let orderInfo: String
        /// `pending` until the citizen has paid or cancelled, then `paid` or `cancelled`.
        let status: String
        let responseCode: String?
        let transactionNo: String?
        let bankCode: String?
        let payDate: String?
        /// The last IPN query sent to the merchant, as it was sent.
        let ipnQuery: String?
        /// The merchant's answers to the IPN calls, oldest first: `00 Confirm Success`, or
        /// `no answer: ...` when the call failed.
        let ipnAnswers: [String]
        /// VND × 100; nil when not refunded.
        let refundedAmount: Int?
    }

    /// What the gateway puts in an IPN call about a payment.
    struct Payment: Sendable, Hashable {
        let txnRef: String
        let amount: Int
        let orderInfo: String
        let responseCode: String
        let transactionNo: String
        let bankCode: String
        let payDate: String

        var isPaid: Bool { responseCode == "00" }
    }

    enum RefundResult: Sendable, Hashable {
        case refunded, refundedBefore, unknownTransaction, notPaid, amountAbovePayment
    }

    private let database: DatabasePool

    init(path: String) throws {
        database = try SandboxDatabase.open(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("gateway v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (
                        txn_ref TEXT PRIMARY KEY,
                        amount INTEGER NOT NULL,
                        order_info TEXT NOT NULL,
                        status TEXT NOT NULL,
                        response_code TEXT,
                        transaction_no TEXT,
                        bank_code TEXT,
                        pay_date TEXT,
                        ipn_query TEXT
                    );
                    CREATE TABLE ipn_answers (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        txn_ref TEXT NOT NULL REFERENCES orders(txn_ref),
                        answer TEXT NOT NULL
                    );
                    CREATE TABLE refunds (
                        txn_ref TEXT PRIMARY KEY REFERENCES orders(txn_ref),
                        request_id TEXT NOT NULL,
                        amount INTEGER NOT NULL
                    );
                    """)
        }
        try migrator.migrate(database)
    }

    /// Records a new order; false when `txnRef` was opened before (with the same amount).
    func open(txnRef: String, amount: Int, orderInfo: String) throws -> Bool {
        try database.write { db in
            if let known = try Int.fetchOne(db, sql: "SELECT amount FROM orders WHERE txn_ref = ?", arguments: [txnRef]) {
                guard known == amount else {
                    throw LedgerRefusal(reason: "order \(txnRef) was opened with vnp_Amount \(known), not \(amount)")
                }
                return false
            }
            try db.execute(
                sql: "INSERT INTO orders (txn_ref, amount, order_info, status) VALUES (?, ?, ?, 'pending')",
                arguments: [txnRef, amount, orderInfo])
            return true
        }
    }

    /// Records the citizen's payment (response code 00) or cancellation (24), with the gateway's
    /// transaction number: VNPay numbers paid transactions and gives 0 to cancelled ones.
    func settle(txnRef: String, responseCode: String, bankCode: String, payDate: String) throws -> Payment? {
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE orders SET status = ?, response_code = ?, bank_code = ?, pay_date = ?,
                        transaction_no = CASE WHEN ? = '00' THEN CAST(14000000 + rowid AS TEXT) ELSE '0' END
                    WHERE txn_ref = ? AND status = 'pending'
                    """,
                arguments: [responseCode == "00" ? "paid" : "cancelled", responseCode, bankCode, payDate, responseCode, txnRef])
            guard db.changesCount > 0,
                let row = try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE txn_ref = ?", arguments: [txnRef])
            else { return nil }
            return Payment(
                txnRef: txnRef, amount: row["amount"], orderInfo: row["order_info"], responseCode: responseCode,
                transactionNo: row["transaction_no"], bankCode: bankCode, payDate: payDate)
        }
    }

    func recordIPN(txnRef: String, query: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE orders SET ipn_query = ? WHERE txn_ref = ?", arguments: [query, txnRef])
        }
    }

    func recordAnswer(txnRef: String, answer: String) throws {
        try database.write { db in
            try db.execute(sql: "INSERT INTO ipn_answers (txn_ref, answer) VALUES (?, ?)", arguments: [txnRef, answer])
        }
    }

    func order(txnRef: String) throws -> Order? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE txn_ref = ?", arguments: [txnRef]) else {
                return nil
            }
            let answers = try String.fetchAll(
                db, sql: "SELECT answer FROM ipn_answers WHERE txn_ref = ? ORDER BY id", arguments: [txnRef])
            let refunded = try Int.fetchOne(db, sql: "SELECT amount FROM refunds WHERE txn_ref = ?", arguments: [txnRef])
            return Order(
                txnRef: txnRef, amount: row["amount"], orderInfo: row["order_info"], status: row["status"],
                responseCode: row["response_code"], transactionNo: row["transaction_no"], bankCode: row["bank_code"],
                payDate: row["pay_date"], ipnQuery: row["ipn_query"], ipnAnswers: answers, refundedAmount: refunded)
        }
    }

    /// Refunds a paid transaction once.
    func refund(txnRef: String, transactionNo: String, amount: Int, requestID: String) throws -> RefundResult {
        try database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE txn_ref = ?", arguments: [txnRef]),
                (row["transaction_no"] as String?) == transactionNo
            else { return .unknownTransaction }
            guard (row["status"] as String) == "paid" else { return .notPaid }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM refunds WHERE txn_ref = ?", arguments: [txnRef]) == true {
                return .refundedBefore
            }
            guard amount <= (row["amount"] as Int) else { return .amountAbovePayment }
            try db.execute(
                sql: "INSERT INTO refunds (txn_ref, request_id, amount) VALUES (?, ?, ?)",
                arguments: [txnRef, requestID, amount])
            return .refunded
        }
    }
}

/// Why the gateway refuses what it was asked, for the caller.
struct LedgerRefusal: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
