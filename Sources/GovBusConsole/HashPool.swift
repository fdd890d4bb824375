import Dispatch
import Synchronization

/// How many may run at once and how many may wait, as a plain value: at most `width` run, at
/// most `depth` wait in arrival order, and anyone beyond is refused at once. Each runner, when
/// it finishes, hands its place to the first waiter.
struct ConcurrencyLimit<Waiter> {
    enum Admission: Equatable {
        case run
        case wait
        case refuse
    }

    let width: Int
    let depth: Int
    private(set) var running = 0
    private(set) var waiting: [Waiter] = []

    init(width: Int, depth: Int) {
        self.width = width
        self.depth = depth
    }

    mutating func admit(_ waiter: Waiter) -> Admission {
        if running < width {
            running += 1
            return .run
        }
        guard waiting.count < depth else { return .refuse }
        waiting.append(waiter)
        return .wait
    }

    /// One runner finished: the waiter that runs in its place, or nil (one place fewer taken).
    mutating func finished() -> Waiter? {
        guard waiting.isEmpty else { return waiting.removeFirst() }
        running -= 1
        return nil
    }
}

/// Where the login's scrypt runs: on threads of its own (tens of milliseconds of CPU and 32 MiB
/// each must not hold up the server's other requests), at most `width` at once, at most `depth`
/// waiting. Beyond that `run` answers `Busy` at once: a flood of logins costs a bounded amount of
/// memory and CPU, and each caller learns so rather than queueing for ever.
final class HashPool: Sendable {
    struct Busy: Error {}

    private let limit: Mutex<ConcurrencyLimit<CheckedContinuation<Bool, Never>>>

    /// Two at once: the console's host has few cores, and its requests need some of them.
    init(width: Int = 2, depth: Int = 16) {
        limit = Mutex(ConcurrencyLimit(width: width, depth: depth))
    }

    /// How many run and how many wait now.
    var load: (running: Int, waiting: Int) {
        limit.withLock { ($0.running, $0.waiting.count) }
    }

    func run<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async throws(Busy) -> Value {
        // A waiter is not taken out of the line when its task is cancelled: its wait is bounded
        // by the line's length times one hash.
        let admitted = await withCheckedContinuation { (place: CheckedContinuation<Bool, Never>) in
            switch limit.withLock({ $0.admit(place) }) {
            case .run: place.resume(returning: true)
            case .wait: break
            case .refuse: place.resume(returning: false)
            }
        }
        guard admitted else { throw Busy() }
        let result = await withCheckedContinuation { (done: CheckedContinuation<Value, Never>) in
            DispatchQueue.global(qos: .userInitiated).async { done.resume(returning: work()) }
        }
        limit.withLock { $0.finished() }?.resume(returning: true)
        return result
    }
}
