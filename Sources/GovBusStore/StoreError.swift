/// What the store reports, whichever the backend.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A write lost a race with another writer (another core changed the row, or recorded the
    /// same thing first): nothing was written; reading again shows what won.
    case conflict(String)
    /// The store location cannot be used as written.
    case badLocation(String)
    /// A row does not hold what the schema says it holds.
    case unreadable(String)
    /// The database cannot be reached or refused the request.
    case failed(String)

    public var description: String {
        switch self {
        case .conflict(let what): "conflict: \(what)"
        case .badLocation(let why): "bad store location: \(why)"
        case .unreadable(let why): "unreadable row: \(why)"
        case .failed(let why): why
        }
    }
}
