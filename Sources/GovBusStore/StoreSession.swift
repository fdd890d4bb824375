/// The SQL the stores agree on. Statements use `?` placeholders; both backends understand
/// `INSERT ... ON CONFLICT`, `RETURNING` and `LIMIT ?`. What differs (column types, triggers,
/// locks) is in the migrations and in `Dialect`.
public enum StoreDialect: String, Sendable, Hashable {
    case sqlite, postgres
}

/// One connection inside a read or a write transaction. Not to be kept past its closure.
public protocol StoreSession {
    var dialect: StoreDialect { get }
    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [StoreValue]) throws -> Int
    /// Runs a query (or a statement with `RETURNING`) and returns its rows.
    func query(_ sql: String, _ values: [StoreValue]) throws -> [StoreRow]
    /// Holds a named lock until the transaction ends, so that writers of several processes take
    /// their turns (PostgreSQL's advisory lock; SQLite's writer is one at a time already).
    func lock(_ name: String) throws
}

extension StoreSession {
    public func queryOne(_ sql: String, _ values: [StoreValue]) throws -> StoreRow? {
        try query(sql, values).first
    }
}
