import Foundation
public import GovBusStore
import Logging
import NIOPosix
import PostgresNIO

/// A store for a test, on each backend: SQLite files in a new folder, or a new database on the
/// PostgreSQL server that `scripts/test` started (GOVBUS_TEST_POSTGRES, the GOVBUS_STORE that
/// `scripts/postgres start` gives). Missing, that server is an error,
/// not a skip: a store test that cannot reach its database fails.
public enum TestStore: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    public struct Missing: Error, CustomStringConvertible {
        public let description = "no PostgreSQL for the store tests (GOVBUS_TEST_POSTGRES): scripts/test starts one"
    }

    /// A new, empty store.
    public func make() async throws -> StoreLocation {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return .sqlite(folder: folder)
        case .postgres:
            guard let text = ProcessInfo.processInfo.environment["GOVBUS_TEST_POSTGRES"],
                case .postgres(var address) = try StoreLocation(text)
            else { throw Missing() }
            let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
            try await Self.createDatabase(name, on: address)
            address.database = name
            return .postgres(address)
        }
    }

    /// The server's URL for a location `make` gave, as core.yaml's `store:` or GOVBUS_STORE takes it.
    public static func url(of location: StoreLocation) -> String {
        switch location {
        case .sqlite(let folder): return folder.path
        case .postgres(let address):
            let password = address.password.map { ":\($0)" } ?? ""
            return "postgres://\(address.user)\(password)@\(address.host):\(address.port)/\(address.database)"
        }
    }

    private static func createDatabase(_ name: String, on address: StoreLocation.PostgresAddress) async throws {
        let configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: .disable)
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1,
            logger: Logger(label: "test-store"))
        do {
            // A name of our own making: letters, digits and underscores only.
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test-store"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
