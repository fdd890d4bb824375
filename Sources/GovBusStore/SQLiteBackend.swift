import Foundation
import GRDB

/// SQLite through GRDB: a pool per file (WAL: readers never wait for the writer).
enum SQLiteBackend {
    static func open(path: String, readOnly: Bool) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.readonly = readOnly
        // The console appends operators' actions while the core appends messages: each waits its turn.
        configuration.busyMode = .timeout(10)
        return try mapped { try DatabasePool(path: path, configuration: configuration) }
    }

    /// The same identifiers as before the store module, so that existing files carry on.
    static func migrate(_ pool: DatabasePool, _ migrations: [StoreMigration]) throws {
        var migrator = DatabaseMigrator()
        for migration in migrations {
            guard let sql = migration.sqlite else { continue }
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: sql) }
        }
        try mapped { try migrator.migrate(pool) }
    }

    /// GRDB's errors as the store's: a broken uniqueness is a conflict with another writer.
    static func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            // Only a broken uniqueness is another writer's doing; a trigger's refusal is not.
            throw StoreError.conflict(error.message ?? "\(error)")
        } catch let error as DatabaseError {
            throw StoreError.failed("SQLite: \(error.message ?? "\(error)")")
        }
    }
}

struct SQLiteSession: StoreSession {
    let db: Database

    var dialect: StoreDialect { .sqlite }

    @discardableResult
    func execute(_ sql: String, _ values: [StoreValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: Self.arguments(values))
        return db.changesCount
    }

    func query(_ sql: String, _ values: [StoreValue]) throws -> [StoreRow] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: Self.arguments(values)).map { row in
            var columns: [String: StoreValue] = [:]
            for (name, value) in zip(row.columnNames, row.databaseValues) {
                switch value.storage {
                case .null: columns[name] = .null
                case .int64(let integer): columns[name] = .integer(integer)
                case .double(let real): columns[name] = .real(real)
                case .string(let text): columns[name] = .text(text)
                case .blob(let data): columns[name] = .blob(data)
                }
            }
            return StoreRow(columns: columns)
        }
    }

    func lock(_ name: String) throws {}

    private static func arguments(_ values: [StoreValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let integer): integer.databaseValue
                case .real(let real): real.databaseValue
                case .text(let text): text.databaseValue
                case .blob(let data): data.databaseValue
                }
            })
    }
}
