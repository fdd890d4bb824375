import Hummingbird
import Synchronization

/// Checks a name and password, so that the answer tells nothing but yes or no:
/// - an unknown name's password is checked against a dummy hash with the same scrypt
///   parameters, and refused with the same answer, so that it takes as long as a known name's;
/// - too many failures for a name or from an address (`LoginLimiter`) are refused with 429 and
///   `Retry-After`, before any scrypt;
/// - scrypt runs on `HashPool`: a few at once, a short line, and 503 beyond it.
final class ConsoleLogin: Sendable {
    private let operators: [String: ConsoleConfiguration.Operator]
    /// What an unknown name's password is checked against.
    let dummyHash: String
    private let limiter: Mutex<LoginLimiter>
    private let pool: HashPool
    private let checked = Mutex(0)

    init(operators: [String: ConsoleConfiguration.Operator], limiter: LoginLimiter = LoginLimiter(), pool: HashPool = HashPool()) {
        self.operators = operators
        dummyHash = PasswordHash.dummy(like: operators.values.map(\.passwordHash))
        self.limiter = Mutex(limiter)
        self.pool = pool
    }

    /// How many passwords scrypt has checked, known names' and unknown ones'.
    var passwordsChecked: Int { checked.withLock { $0 } }

    /// The operator `name` is, when `password` is theirs; otherwise an `HTTPError`: 401 for a
    /// wrong name or password alike, 429 after too many failures, 503 when the pool is full.
    func check(name: String, password: String, address: String?) async throws(HTTPError) -> ConsoleConfiguration.Operator {
        let now = ContinuousClock.now
        if case .refused(let wait) = limiter.withLock({ $0.attempt(name: name, address: address, at: now) }) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            throw HTTPError(
                .tooManyRequests, headers: [.retryAfter: "\(seconds)"], message: "too many failed logins: try again in \(seconds) s")
        }
        let account = operators[name]
        let hash = account?.passwordHash ?? dummyHash
        let right: Bool
        do {
            right = try await pool.run { [self] in
                checked.withLock { $0 += 1 }
                return PasswordHash.verify(password, against: hash)
            }
        } catch {
            // Not checked: it counts for nothing.
            limiter.withLock { $0.notChecked(name: name, address: address, at: now) }
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"], message: "too many logins at once: try again in a moment")
        }
        guard let account, right else { throw HTTPError(.unauthorized, message: "wrong name or password") }
        limiter.withLock { $0.succeeded(name: name, address: address, at: now) }
        return account
    }
}
