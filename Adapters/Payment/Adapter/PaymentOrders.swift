import Foundation
import GRDB

/// A payment order: one per `orderId` of the bus, which is VNPay's `vnp_TxnRef`.
struct PaymentOrder: Sendable, Hashable {
    enum Status: String, Sendable, DatabaseValueConvertible {
        case pending, paid, failed, refunded
    }

    let txnRef: String
    let dossierId: String
    /// VND.
    let amount: Int
    var status: Status
    /// When its payment link was made, in whole seconds: a repeated request makes the same link.
    let created: Date
    /// The fee request the order answers (its latest, when the core asked again): what the
    /// settlement names in `govbus-causation-id`, so that the core ties it to its request.
    var requestID: String?
}

/// The adapter's orders, in SQLite (`payment.sqlite` in the data directory): what an IPN call is
/// checked against, and what makes a repeated fee request give the same link.
final class PaymentOrders: Sendable {
    private let database: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        // The order a payment settles must survive a crash: a full sync, on the write-ahead log.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        database = try DatabasePool(path: path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("orders v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE orders (
                        txn_ref TEXT PRIMARY KEY,
                        dossier_id TEXT NOT NULL,
                        amount INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'refunded')),
                        created INTEGER NOT NULL
                    )
                    """)
        }
        migrator.registerMigration("orders v2: the request answered") { db in
            try db.execute(sql: "ALTER TABLE orders ADD COLUMN request_id TEXT")
        }
        try migrator.migrate(database)
    }

    /// The order `txnRef`, made now (pending) when there is none yet; `requestID` is the fee
    /// request that asks for it (a repeated request becomes the one its settlement answers).
    func open(txnRef: String, dossierId: String, amount: Int, requestID: String, now: Date) throws -> PaymentOrder {
        try database.write { db in
            if var existing = try Self.order(txnRef, in: db) {
                guard existing.dossierId == dossierId, existing.amount == amount else { return existing }
                try db.execute(sql: "UPDATE orders SET request_id = ? WHERE txn_ref = ?", arguments: [requestID, txnRef])
                existing.requestID = requestID
                return existing
            }
            let order = PaymentOrder(
                txnRef: txnRef, dossierId: dossierId, amount: amount, status: .pending,
                created: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)), requestID: requestID)
            try db.execute(
                sql: "INSERT INTO orders (txn_ref, dossier_id, amount, status, created, request_id) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [txnRef, dossierId, amount, order.status, Int64(order.created.timeIntervalSince1970), requestID])
            return order
        }
    }

    func order(txnRef: String) throws -> PaymentOrder? {
        try database.read { db in try Self.order(txnRef, in: db) }
    }

    /// Marks a pending order paid or failed; false when it was settled before.
    @discardableResult
    func settle(txnRef: String, as status: PaymentOrder.Status) throws -> Bool {
        try database.write { db in
            try db.execute(
                sql: "UPDATE orders SET status = ? WHERE txn_ref = ? AND status = 'pending'", arguments: [status, txnRef])
            return db.changesCount > 0
        }
    }

    func markRefunded(txnRef: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE orders SET status = 'refunded' WHERE txn_ref = ?", arguments: [txnRef])
        }
    }

    private static func order(_ txnRef: String, in db: Database) throws -> PaymentOrder? {
        try Row.fetchOne(db, sql: "SELECT * FROM orders WHERE txn_ref = ?", arguments: [txnRef]).map { row in
            PaymentOrder(
                txnRef: row["txn_ref"], dossierId: row["dossier_id"], amount: row["amount"], status: row["status"],
                created: Date(timeIntervalSince1970: TimeInterval(row["created"] as Int64)), requestID: row["request_id"])
        }
    }
}
