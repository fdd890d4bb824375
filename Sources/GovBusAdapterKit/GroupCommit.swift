import Dispatch
import Synchronization

/// Group commit: writes that come while a transaction is being synced wait, and then go to disk
/// together, in one transaction with one sync. Each caller resumes only once its own write is
/// durable, as with a transaction of its own; under load, many writers share one sync instead of
/// queueing for one each.
///
/// The transactions run on a queue of their own, one after another, each taking everything that
/// waits: the callers (handlers that answer an HTTP request or ack a delivery only once their
/// write is safe) are suspended meanwhile, not blocking a thread of Swift's small pool on a sync.
final class GroupCommit<Write: Sendable, Outcome: Sendable>: Sendable {
    private struct State {
        var waiting: [(write: Write, caller: CheckedContinuation<Outcome, any Error>)] = []
        var draining = false
    }

    private let state = Mutex(State())
    private let writer: DispatchQueue
    /// Writes the batch in one transaction: an outcome per write, in order, or the error that
    /// failed them all.
    private let commit: @Sendable ([Write]) throws -> [Outcome]

    init(label: String, commit: @escaping @Sendable ([Write]) throws -> [Outcome]) {
        writer = DispatchQueue(label: label)
        self.commit = commit
    }

    /// Writes `write` with whatever else is waiting; returns once it is durable.
    func write(_ write: Write) async throws -> Outcome {
        try await withCheckedThrowingContinuation { caller in
            let startsDrain = state.withLock { state in
                state.waiting.append((write, caller))
                defer { state.draining = true }
                return !state.draining
            }
            if startsDrain { writer.async { self.drain() } }
        }
    }

    /// Commits what waits, batch after batch, until nothing does.
    private func drain() {
        while true {
            let batch = state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.draining = false }
                return state.waiting
            }
            guard !batch.isEmpty else { return }
            let outcomes: Result<[Outcome], any Error> = Result {
                let outcomes = try commit(batch.map(\.write))
                guard outcomes.count == batch.count else { throw MissingOutcomes(count: outcomes.count, of: batch.count) }
                return outcomes
            }
            for (index, item) in batch.enumerated() {
                item.caller.resume(with: outcomes.map { $0[index] })
            }
        }
    }
}

/// A commit that did not answer for every write of its batch (a bug): none of them counts as durable.
struct MissingOutcomes: Error, CustomStringConvertible {
    let count: Int
    let of: Int
    var description: String { "a group commit answered for \(count) of its \(of) writes" }
}
