import Crypto
import Foundation
import GRDB
import GovBusContracts
import GovBusSandboxKit

/// The document system's register of issued documents (sổ đăng ký văn bản đi), in SQLite:
/// numbered 1, 2, 3... per issuing organ and year, one entry per document id, so a package sent
/// again gets its first number back and is not stored twice.
final class DocumentRegister: Sendable {
    struct Entry: Sendable, Hashable {
        var organ: String
        var year: Int
        var number: Int
        var notation: String
        var documentId: String
        var subject: String
        var signerName: String
        var signerPosition: String
        /// dd/MM/yyyy.
        var promulgationDate: String
        var contentType: String
        var content: Data
        /// Hex SHA-256 of `content`.
        var sha256: String
        /// Ed25519 signature of `content`, base64.
        var signature: String
        var storedAt: Date
    }

    private let database: DatabasePool

    init(path: String) throws {
        database = try SandboxDatabase.open(path: path)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("documents v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE documents (
                        organ TEXT NOT NULL,
                        year INTEGER NOT NULL,
                        number INTEGER NOT NULL,
                        notation TEXT NOT NULL,
                        document_id TEXT NOT NULL UNIQUE,
                        subject TEXT NOT NULL,
                        signer_name TEXT NOT NULL,
                        signer_position TEXT NOT NULL,
                        promulgation_date TEXT NOT NULL,
                        content_type TEXT NOT NULL,
                        content BLOB NOT NULL,
                        sha256 TEXT NOT NULL,
                        signature TEXT NOT NULL,
                        stored_at DOUBLE NOT NULL,
                        PRIMARY KEY (organ, year, number)
                    )
                    """)
        }
        try migrator.migrate(database)
    }

    /// Numbers and stores a document; a document id registered before gets its entry back as it
    /// was (`isNew` false), whatever the new package says.
    func register(_ draft: IssueDraft, signature: String, at date: Date = Date()) throws -> (entry: Entry, isNew: Bool) {
        try database.write { db -> (entry: Entry, isNew: Bool) in
            if let row = try Row.fetchOne(
                db, sql: "SELECT * FROM documents WHERE document_id = ?", arguments: [draft.documentId])
            {
                return (Self.entry(from: row), false)
            }
            let number =
                try Int.fetchOne(
                    db, sql: "SELECT COALESCE(MAX(number), 0) + 1 FROM documents WHERE organ = ? AND year = ?",
                    arguments: [draft.organ, draft.year]) ?? 1
            let entry = Entry(
                organ: draft.organ, year: draft.year, number: number, notation: draft.notation, documentId: draft.documentId,
                subject: draft.subject, signerName: draft.signerName, signerPosition: draft.signerPosition,
                promulgationDate: draft.promulgationDate, contentType: draft.contentType, content: draft.content,
                sha256: Self.hexDigest(draft.content), signature: signature, storedAt: date)
            try db.execute(
                sql: """
                    INSERT INTO documents (organ, year, number, notation, document_id, subject, signer_name, signer_position,
                        promulgation_date, content_type, content, sha256, signature, stored_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    entry.organ, entry.year, entry.number, entry.notation, entry.documentId, entry.subject, entry.signerName,
                    entry.signerPosition, entry.promulgationDate, entry.contentType, entry.content, entry.sha256,
                    entry.signature, entry.storedAt.timeIntervalSince1970,
                ])
            return (entry, true)
        }
    }

    func entry(organ: String, year: Int, number: Int) throws -> Entry? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM documents WHERE organ = ? AND year = ? AND number = ?",
                arguments: [organ, year, number]
            ).map { Self.entry(from: $0) }
        }
    }

    /// In register order; every organ's when `organ` is nil.
    func entries(organ: String?) throws -> [Entry] {
        try database.read { db in
            let rows: [Row]
            if let organ {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM documents WHERE organ = ? ORDER BY year, number", arguments: [organ])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM documents ORDER BY organ, year, number")
            }
            return rows.map { Self.entry(from: $0) }
        }
    }

    private static func entry(from row: Row) -> Entry {
        Entry(
            organ: row["organ"], year: row["year"], number: row["number"], notation: row["notation"],
            documentId: row["document_id"], subject: row["subject"], signerName: row["signer_name"],
            signerPosition: row["signer_position"], promulgationDate: row["promulgation_date"],
            contentType: row["content_type"], content: row["content"], sha256: row["sha256"], signature: row["signature"],
            storedAt: Date(timeIntervalSince1970: row["stored_at"]))
    }

    static func hexDigest(_ data: Data) -> String {
        SHA256.hash(data: data).lowercaseHex
    }
}
