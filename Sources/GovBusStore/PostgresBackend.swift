import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// PostgreSQL through postgres-nio: a few connections kept open per database and process, on an
/// event loop of the store's own, so that a caller may wait for an answer on its thread.
final class PostgresBackend: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let address: StoreLocation.PostgresAddress
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(0)
    private let logger = Logger(label: "govbus.store.postgres")

    /// Set on each connection: a statement, a lock wait or an idle transaction ends after 30 s.
    private static let timeouts = [
        "SET statement_timeout = '30s'", "SET lock_timeout = '30s'", "SET idle_in_transaction_session_timeout = '30s'",
    ]

    /// Connections kept open when idle; more are opened when needed and closed after.
    private static let idleLimit = 8
    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private static let backends = Mutex<[StoreLocation.PostgresAddress: PostgresBackend]>([:])

    /// One backend per database in a process: the parts of the store share its connections.
    static func shared(_ address: StoreLocation.PostgresAddress) throws -> PostgresBackend {
        backends.withLock { backends in
            if let backend = backends[address] { return backend }
            let backend = PostgresBackend(address)
            backends[address] = backend
            return backend
        }
    }

    private init(_ address: StoreLocation.PostgresAddress) {
        self.address = address
        configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: .disable)
    }

    func read<T>(_ body: (any StoreSession) throws -> T) throws -> T {
        // One snapshot for every statement of the read.
        try inTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    @discardableResult
    func write<T>(_ body: (any StoreSession) throws -> T) throws -> T {
        try inTransaction("BEGIN", body)
    }

    /// `body` between `begin` and COMMIT, rolled back if it throws.
    private func inTransaction<T>(_ begin: String, _ body: (any StoreSession) throws -> T) throws -> T {
        try withConnection { session in
            try session.begin(begin)
            do {
                let result = try body(session)
                try session.execute("COMMIT", [])
                return result
            } catch {
                _ = try? session.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    /// Applies the migrations not applied yet, one process at a time (cores may start together).
    func migrate(_ migrations: [StoreMigration]) throws {
        try write { session in
            try session.lock("govbus schema")
            try session.execute(
                "CREATE TABLE IF NOT EXISTS govbus_migration (identifier TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)",
                [])
            let applied = Set(try session.query("SELECT identifier FROM govbus_migration", []).map { try $0.text("identifier") })
            for migration in migrations where !applied.contains(migration.identifier) {
                guard let statements = migration.postgres else { continue }
                for statement in statements { try session.execute(statement, []) }
                try session.execute(
                    "INSERT INTO govbus_migration (identifier, applied_at) VALUES (?, ?)",
                    [.text(migration.identifier), .date(Date())])
            }
        }
    }

    private func withConnection<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try take()
        defer { giveBack(connection) }
        return try body(PostgresSession(connection: connection, logger: logger))
    }

    private func take() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        do {
            let connection = try PostgresConnection.connect(
                on: Self.group.next(), configuration: configuration, id: nextID.add(1, ordering: .relaxed).newValue,
                logger: logger
            ).wait()
            // No wait without end: a core stopped while it holds the audit chain's lock, or a
            // statement stuck, must not hold every other core up.
            let session = PostgresSession(connection: connection, logger: logger)
            for setting in Self.timeouts { try session.execute(setting, []) }
            return connection
        } catch {
            throw StoreError.failed("cannot reach PostgreSQL at \(StoreLocation.postgres(address)): \(PostgresSession.explain(error))")
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }
        let kept = idle.withLock { idle in
            guard idle.count < Self.idleLimit else { return false }
            idle.append(connection)
            return true
        }
        if !kept { connection.close().whenComplete { _ in } }
    }
}

/// Lets one of two racing completions through.
private final class FirstOnly: Sendable {
    private let taken = Atomic<Bool>(false)

    func isFirst() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}

struct PostgresSession: StoreSession {
    let connection: PostgresConnection
    let logger: Logger

    var dialect: StoreDialect { .postgres }

    @discardableResult
    func execute(_ sql: String, _ values: [StoreValue]) throws -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    func query(_ sql: String, _ values: [StoreValue]) throws -> [StoreRow] {
        try run(sql, values).rows.map { row in
            var columns: [String: StoreValue] = [:]
            for cell in row { columns[cell.columnName] = try Self.value(of: cell) }
            return StoreRow(columns: columns)
        }
    }

    /// Opens a transaction: the first statement on a connection taken from the pool, and one the
    /// server answers at once, so a connection that cannot carry it is given up after a few seconds.
    func begin(_ statement: String) throws {
        _ = try run(statement, [], within: Self.beginTimeout)
    }

    func lock(_ name: String) throws {
        try execute("SELECT pg_advisory_xact_lock(hashtext(?))", [.text(name)])
    }

    private func run(_ sql: String, _ values: [StoreValue], within timeout: TimeAmount = answerTimeout) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            }
        }
        do {
            return try Self.answer(
                to: connection.query(PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds), logger: logger),
                on: connection, within: timeout)
        } catch let error as PSQLError {
            // 23505: unique violation, 40001: serialization failure, 40P01: deadlock.
            if let state = error.serverInfo?[.sqlState], ["23505", "40001", "40P01"].contains(state) {
                throw StoreError.conflict(Self.explain(error))
            }
            throw StoreError.failed("PostgreSQL: \(Self.explain(error))")
        }
    }

    /// How long a caller waits for an answer: the server's own statement timeout (30 s) and a margin.
    static let answerTimeout = TimeAmount.seconds(40)
    /// How long a BEGIN may take: no lock, no work, only a connection that carries it.
    static let beginTimeout = TimeAmount.seconds(5)

    /// The query's answer, or a failure once `timeout` has passed without one. After the server
    /// was killed and started again, a statement was seen to stay unanswered for good (a BEGIN, the
    /// server's session idle, the client waiting; other statements in later runs): the core held
    /// its messages and routed nothing more. Past the timeout the connection is closed, so nothing
    /// uses it again, and the caller's failure is retried later on a new one.
    private static func answer(
        to query: EventLoopFuture<PostgresQueryResult>, on connection: PostgresConnection, within timeout: TimeAmount
    ) throws -> PostgresQueryResult {
        let answer = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
        let gate = FirstOnly()
        query.whenComplete { result in
            if gate.isFirst() { answer.completeWith(result) }
        }
        let expiry = connection.eventLoop.scheduleTask(in: timeout) {
            guard gate.isFirst() else { return }
            answer.fail(StoreError.failed("PostgreSQL gave no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
            connection.close().whenComplete { _ in }
        }
        defer { expiry.cancel() }
        return try answer.futureResult.wait()
    }

    /// `?` placeholders as PostgreSQL's `$1`, `$2`, … (none is inside a quoted literal).
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.count + 8)
        var number = 0
        var quoted = false
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?", !quoted {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    private static func value(of cell: PostgresCell) throws -> StoreValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int8: return .integer(try cell.decode(Int64.self))
        case .int4: return .integer(Int64(try cell.decode(Int32.self)))
        case .int2: return .integer(Int64(try cell.decode(Int16.self)))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float8: return .real(try cell.decode(Double.self))
        case .float4: return .real(Double(try cell.decode(Float.self)))
        case .bytea: return .blob(try cell.decode(Data.self))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// A server error's message and detail, not the query's text (which may hold personal data).
    static func explain(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            return [info[.sqlState], info[.message], info[.detail]].compactMap { $0 }.joined(separator: ": ")
        }
        return "\(error.code)"
    }
}
