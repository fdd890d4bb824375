import Foundation
import Synchronization

/// Which queues are growing: their depth rose at each of the last few looks, over at least a
/// minute, and by more than a handful. A queue that only holds many messages says so elsewhere.
final class DepthTrend: Sendable {
    private struct Sample {
        let at: Date
        let depth: Int
    }

    private let samples = Mutex<[String: [Sample]]>([:])
    static let looks = 5
    static let span: TimeInterval = 60
    static let minimumRise = 20

    func growing(_ queues: [QueueFigures.Queue], now: Date = Date()) -> [String] {
        samples.withLock { samples in
            var growing: [String] = []
            for queue in queues {
                var history = samples[queue.name, default: []].filter { now.timeIntervalSince($0.at) <= 10 * Self.span }
                // One look per 10 s at most: the overview page asks every 3 s.
                if let last = history.last, now.timeIntervalSince(last.at) < 10 {
                    history.removeLast()
                }
                history.append(Sample(at: now, depth: queue.messages))
                samples[queue.name] = Array(history.suffix(Self.looks))
                let recent = samples[queue.name]!
                guard recent.count == Self.looks, let first = recent.first, let last = recent.last,
                    last.at.timeIntervalSince(first.at) >= Self.span, last.depth - first.depth >= Self.minimumRise,
                    zip(recent, recent.dropFirst()).allSatisfy({ $0.depth < $1.depth })
                else { continue }
                growing.append(queue.name)
            }
            return growing
        }
    }
}
