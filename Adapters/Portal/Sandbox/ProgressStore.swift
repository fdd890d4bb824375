import Foundation
import GRDB
import GovBusSandboxKit

/// What the portal sandbox knows: the dossiers it submitted (in batches, for the demo's table)
/// and every progress update the adapter sent for each, in the order they came.
final class ProgressStore: Sendable {
    struct Update: Codable, Sendable, Hashable {
        var TrangThai: String
        var TrangThaiGovBus: String
        var NoiDungXuLy: String
        var NguoiXuLy: String
        var ThoiDiemXuLy: String
        var NhanLuc: Double
    }

    struct DossierSummary: Codable, Sendable, Hashable {
        var MaHoSo: String
        /// What the sandbox made it to be: "free", "paid", "identity-mismatch", ...
        var kind: String
        var submittedAt: Double
        var lastStatus: String?
        var lastUpdateAt: Double?
        var updates: Int
    }

    private let database: DatabasePool

    init(path: String) throws {
        database = try SandboxDatabase.open(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("portal sandbox v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE submitted (
                        ma_ho_so TEXT PRIMARY KEY, batch TEXT NOT NULL, kind TEXT NOT NULL, submitted_at DOUBLE NOT NULL);
                    CREATE INDEX submitted_batch ON submitted(batch);
                    CREATE TABLE progress (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT, ma_ho_so TEXT NOT NULL, trang_thai TEXT NOT NULL,
                        govbus_status TEXT NOT NULL, noi_dung TEXT NOT NULL, nguoi_xu_ly TEXT NOT NULL,
                        thoi_diem TEXT NOT NULL, received_at DOUBLE NOT NULL);
                    CREATE INDEX progress_dossier ON progress(ma_ho_so);
                    """)
        }
        try migrator.migrate(database)
    }

    func recordSubmitted(_ dossierID: String, batch: String, kind: String, at date: Date) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO submitted (ma_ho_so, batch, kind, submitted_at) VALUES (?, ?, ?, ?)",
                arguments: [dossierID, batch, kind, date.timeIntervalSince1970])
        }
    }

    func append(dossier: String, _ update: Update) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO progress (ma_ho_so, trang_thai, govbus_status, noi_dung, nguoi_xu_ly, thoi_diem, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    dossier, update.TrangThai, update.TrangThaiGovBus, update.NoiDungXuLy, update.NguoiXuLy,
                    update.ThoiDiemXuLy, update.NhanLuc,
                ])
        }
    }

    func history(of dossier: String) throws -> [Update] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM progress WHERE ma_ho_so = ? ORDER BY sequence", arguments: [dossier]).map {
                Update(
                    TrangThai: $0["trang_thai"], TrangThaiGovBus: $0["govbus_status"], NoiDungXuLy: $0["noi_dung"],
                    NguoiXuLy: $0["nguoi_xu_ly"], ThoiDiemXuLy: $0["thoi_diem"], NhanLuc: $0["received_at"])
            }
        }
    }

    /// Each dossier of a batch with its last status (the bus's name for it) and when it came.
    func summary(batch: String) throws -> [DossierSummary] {
        try database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT s.ma_ho_so, s.kind, s.submitted_at,
                        (SELECT govbus_status FROM progress p WHERE p.ma_ho_so = s.ma_ho_so ORDER BY sequence DESC LIMIT 1) AS last_status,
                        (SELECT MAX(received_at) FROM progress p WHERE p.ma_ho_so = s.ma_ho_so) AS last_at,
                        (SELECT COUNT(*) FROM progress p WHERE p.ma_ho_so = s.ma_ho_so) AS updates
                    FROM submitted s WHERE s.batch = ? ORDER BY s.ma_ho_so
                    """, arguments: [batch]
            ).map {
                DossierSummary(
                    MaHoSo: $0["ma_ho_so"], kind: $0["kind"], submittedAt: $0["submitted_at"], lastStatus: $0["last_status"],
                    lastUpdateAt: $0["last_at"], updates: $0["updates"])
            }
        }
    }
}
