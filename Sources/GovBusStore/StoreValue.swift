public import Foundation

/// A value bound to a statement or read from a row, whichever the backend.
public enum StoreValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    public static func integer(_ value: Int) -> StoreValue { .integer(Int64(value)) }

    public static func date(_ date: Date) -> StoreValue { .real(date.timeIntervalSince1970) }

    public static func optional(_ text: String?) -> StoreValue { text.map(StoreValue.text) ?? .null }
}
