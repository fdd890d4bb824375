public import Foundation

/// Where the core and the console keep their state: SQLite files in a folder (one core on one
/// machine), or a PostgreSQL database that several cores share. Written in core.yaml as `store:`
/// (or `GOVBUS_STORE`): `postgres://user:password@host:port/database`, or a folder.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(folder: URL)
    case postgres(PostgresAddress)

    public struct PostgresAddress: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
    }

    public init(_ text: String, relativeTo base: URL? = nil) throws {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try Self.postgresAddress(text))
        } else if text.contains("://") {
            throw StoreError.badLocation("'\(Self.redacted(text))' is neither postgres://… nor a folder")
        } else {
            // Relative to the configuration file's folder (`base` names a folder, with or without its slash).
            let folder = text.hasPrefix("/") || base == nil ? URL(fileURLWithPath: text) : base!.appendingPathComponent(text)
            self = .sqlite(folder: folder.standardizedFileURL)
        }
    }

    private static func postgresAddress(_ text: String) throws -> PostgresAddress {
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw StoreError.badLocation("'\(redacted(text))' has no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw StoreError.badLocation("'\(redacted(text))' names no user (postgres://user:password@host/database)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else {
            throw StoreError.badLocation("'\(redacted(text))' names no database (postgres://user:password@host/database)")
        }
        for item in components.queryItems ?? [] where !(item.name == "sslmode" && item.value == "disable") {
            throw StoreError.badLocation(
                "'\(item.name)=\(item.value ?? "")' is not supported: only sslmode=disable (a store on a trusted network or loopback)")
        }
        return PostgresAddress(
            host: host, port: components.port ?? 5432, user: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 }, database: database)
    }

    /// The location without its password, for logs and errors.
    public var description: String {
        switch self {
        case .sqlite(let folder): folder.path
        case .postgres(let address): "postgres://\(address.user)@\(address.host):\(address.port)/\(address.database)"
        }
    }

    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "****"
        return components.string ?? text
    }
}
