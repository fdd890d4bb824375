import Synchronization

/// A queue between two tasks whose taker wants everything that is there at once: the core does
/// one SQLite transaction per batch instead of one per message. `next` waits for at least one
/// element; it returns an empty batch once the queue is finished and drained. It does not stop
/// for a cancellation: the queue's writer ends, finishes it, and what was in it is still taken.
final class BatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements: [Element] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state = Mutex(State())

    func append(_ element: Element) {
        let waiter = state.withLock { state in
            state.elements.append(element)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Up to `limit` elements, in order.
    func next(limit: Int) async -> [Element] {
        while true {
            let batch: [Element]? = state.withLock { state in
                guard !state.elements.isEmpty || state.finished else { return nil }
                let count = min(limit, state.elements.count)
                defer { state.elements.removeFirst(count) }
                return Array(state.elements.prefix(count))
            }
            if let batch { return batch }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    guard state.elements.isEmpty, !state.finished else { return true }
                    state.waiter = waiter
                    return false
                }
                if ready { waiter.resume() }
            }
        }
    }
}
