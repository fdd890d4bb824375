public import Foundation

/// One row of a query's result, by column name, whichever the backend.
public struct StoreRow: Sendable {
    let columns: [String: StoreValue]

    public subscript(_ column: String) -> StoreValue { columns[column] ?? .null }

    public func text(_ column: String) throws -> String {
        guard case .text(let value) = self[column] else { throw mismatch(column, "text") }
        return value
    }

    public func optionalText(_ column: String) throws -> String? {
        if case .null = self[column] { return nil }
        return try text(column)
    }

    public func integer(_ column: String) throws -> Int64 {
        switch self[column] {
        case .integer(let value): return value
        // SQLite keeps an integral value in a DOUBLE column as it came; COUNT is an integer in both.
        case .real(let value) where value.rounded() == value && abs(value) < 9.0e15: return Int64(value)
        default: throw mismatch(column, "integer")
        }
    }

    public func real(_ column: String) throws -> Double {
        switch self[column] {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: throw mismatch(column, "number")
        }
    }

    public func date(_ column: String) throws -> Date { Date(timeIntervalSince1970: try real(column)) }

    public func blob(_ column: String) throws -> Data {
        guard let value = try optionalBlob(column) else { throw mismatch(column, "bytes") }
        return value
    }

    public func optionalBlob(_ column: String) throws -> Data? {
        switch self[column] {
        case .null: return nil
        case .blob(let value): return value
        // SQLite returns an empty blob written by an older version as text.
        case .text(let value): return Data(value.utf8)
        default: throw mismatch(column, "bytes")
        }
    }

    private func mismatch(_ column: String, _ expected: String) -> StoreError {
        StoreError.unreadable("column \(column) is \(self[column]), not \(expected)")
    }
}
