/// One step of a schema, in each dialect: applied once, in order, under its identifier. A step
/// that one dialect does not need (SQLite's history before PostgreSQL was supported) is nil there.
public struct StoreMigration: Sendable {
    public let identifier: String
    public let sqlite: String?
    /// One statement per element: PostgreSQL takes one statement per request.
    public let postgres: [String]?

    public init(_ identifier: String, sqlite: String?, postgres: [String]?) {
        self.identifier = identifier
        self.sqlite = sqlite
        self.postgres = postgres
    }
}
