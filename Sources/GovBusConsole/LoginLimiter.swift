/// How many logins may fail, as a plain value (the clock is the caller's): a sliding window of
/// failures per user name and per client address. After `perName` failures for one name, or
/// `perAddress` from one address, within `window`, the next try is refused until the oldest of
/// them leaves the window, and its password is not checked (scrypt is what a flood would cost).
///
/// Every admitted try counts as a failure at once, so that tries in flight together cannot pass
/// the limit before any of them is found wrong; a success takes its own back from the address
/// and forgets its name's failures. A refused try counts for nothing: it cannot lengthen a
/// lockout. One address trying many names is what the address's count is for.
struct LoginLimiter: Sendable {
    typealias Instant = ContinuousClock.Instant

    enum Decision: Equatable, Sendable {
        case allowed
        case refused(retryAfter: Duration)
    }

    let window: Duration
    let perName: Int
    let perAddress: Int
    /// Names and addresses remembered at most, each; the oldest are forgotten first.
    let remembered: Int
    private(set) var names: [String: [Instant]] = [:]
    private(set) var addresses: [String: [Instant]] = [:]

    /// Five tries per name and twenty per address in fifteen minutes: an operator who mistypes
    /// is not locked out for long, and a guesser gets a few hundred tries a day per name.
    init(window: Duration = .seconds(15 * 60), perName: Int = 5, perAddress: Int = 20, remembered: Int = 10_000) {
        self.window = window
        self.perName = perName
        self.perAddress = perAddress
        self.remembered = remembered
    }

    /// Whether a login for `name` from `address` (nil: unknown) may be tried at `now`; when it
    /// may, it is counted as a failure until `succeeded` says otherwise.
    mutating func attempt(name: String, address: String?, at now: Instant) -> Decision {
        let nameKey = Self.key(name)
        let addressKey = address ?? "unknown"
        let waits = [
            Self.wait(&names, key: nameKey, limit: perName, window: window, now: now),
            Self.wait(&addresses, key: addressKey, limit: perAddress, window: window, now: now),
        ].compactMap { $0 }
        if let longest = waits.max() { return .refused(retryAfter: longest) }
        names[nameKey, default: []].append(now)
        addresses[addressKey, default: []].append(now)
        Self.forgetOldest(&names, keeping: remembered, window: window, now: now)
        Self.forgetOldest(&addresses, keeping: remembered, window: window, now: now)
        return .allowed
    }

    /// The try counted at `at` was right.
    mutating func succeeded(name: String, address: String?, at: Instant) {
        names[Self.key(name)] = nil
        Self.remove(at, from: &addresses, key: address ?? "unknown")
    }

    /// The try counted at `at` was never checked (no room to run scrypt): it counts for nothing.
    mutating func notChecked(name: String, address: String?, at: Instant) {
        Self.remove(at, from: &names, key: Self.key(name))
        Self.remove(at, from: &addresses, key: address ?? "unknown")
    }

    private static func remove(_ time: Instant, from table: inout [String: [Instant]], key: String) {
        guard var times = table[key], let index = times.lastIndex(of: time) else { return }
        times.remove(at: index)
        table[key] = times.isEmpty ? nil : times
    }

    /// A name of any length costs the same to remember.
    private static func key(_ name: String) -> String {
        String(decoding: name.utf8.prefix(128), as: UTF8.self)
    }

    /// How long until `key` may try again; nil when it may now. Drops what left the window.
    private static func wait(_ table: inout [String: [Instant]], key: String, limit: Int, window: Duration, now: Instant) -> Duration? {
        guard var times = table[key] else { return nil }
        times.removeAll { now - $0 >= window }
        table[key] = times.isEmpty ? nil : times
        guard times.count >= limit else { return nil }
        // When enough of them have left the window for one more to fit.
        return times[times.count - limit] + window - now
    }

    private static func forgetOldest(_ table: inout [String: [Instant]], keeping count: Int, window: Duration, now: Instant) {
        guard table.count > count else { return }
        table = table.filter { entry in entry.value.contains { time in now - time < window } }
        guard table.count > count else { return }
        let newest = table.mapValues { $0.max() ?? now }.sorted { $0.value < $1.value }
        for (key, _) in newest.prefix(table.count - count) { table[key] = nil }
    }
}
