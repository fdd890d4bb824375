import Foundation
import GRDB

/// One part of the store (the audit log, the dossiers, the ledger, the dead letters): an SQLite
/// file of its own in the store's folder, or tables in the shared PostgreSQL database. Reads and
/// writes are transactions; a write's closure runs once, and a conflict with another writer
/// (`StoreError.conflict`) rolls it back whole.
///
/// The calls block their thread until the database answers, as GRDB's do: the core's pipeline
/// takes one batch at a time, and PostgreSQL's answers arrive on the store's own event loop.
public final class StoreDatabase: Sendable {
    enum Backend: Sendable {
        case sqlite(DatabasePool)
        case postgres(PostgresBackend)
    }

    let backend: Backend
    public let location: StoreLocation
    /// The SQLite file, for messages (nil on PostgreSQL).
    public let path: String?

    public var dialect: StoreDialect {
        switch backend {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// Opens the part `name` (`name.sqlite` in an SQLite folder) and applies its migrations. A
    /// read-only opening (the console) applies none and needs the part to exist.
    public init(_ location: StoreLocation, name: String, migrations: [StoreMigration], readOnly: Bool = false) throws {
        self.location = location
        switch location {
        case .sqlite(let folder):
            let file = folder.appendingPathComponent("\(name).sqlite").path
            path = file
            if readOnly, !FileManager.default.fileExists(atPath: file) {
                throw StoreError.badLocation("no \(file): is it the core's data folder, and has the core run?")
            }
            if !readOnly { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            let pool = try SQLiteBackend.open(path: file, readOnly: readOnly)
            if !readOnly { try SQLiteBackend.migrate(pool, migrations) }
            backend = .sqlite(pool)
        case .postgres(let address):
            path = nil
            let postgres = try PostgresBackend.shared(address)
            if !readOnly { try postgres.migrate(migrations) }
            backend = .postgres(postgres)
        }
    }

    /// A single SQLite file at `path` (tools and tests that name the file itself).
    public convenience init(sqliteFile path: String, migrations: [StoreMigration], readOnly: Bool = false) throws {
        let url = URL(fileURLWithPath: path)
        var name = url.lastPathComponent
        if name.hasSuffix(".sqlite") { name.removeLast(".sqlite".count) }
        try self.init(
            .sqlite(folder: url.deletingLastPathComponent()), name: name, migrations: migrations, readOnly: readOnly)
    }

    public func read<T>(_ body: (any StoreSession) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try SQLiteBackend.mapped { try pool.read { db in try body(SQLiteSession(db: db)) } }
        case .postgres(let postgres): try postgres.read(body)
        }
    }

    @discardableResult
    public func write<T>(_ body: (any StoreSession) throws -> T) throws -> T {
        switch backend {
        case .sqlite(let pool): try SQLiteBackend.mapped { try pool.write { db in try body(SQLiteSession(db: db)) } }
        case .postgres(let postgres): try postgres.write(body)
        }
    }
}
