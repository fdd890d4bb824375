/// Turns a consumer's single acks into fewer frames: when the acks the application gave since the
/// driver last looked settle every delivery tag up to some tag, one `basic.ack` with `multiple`
/// says the same as all of them, and the broker has one frame to handle instead of many.
///
/// Delivery tags on a channel start at 1 and grow by one per delivery. RabbitMQ accepts a
/// `multiple` ack over tags already settled, but refuses one whose own tag is settled ("unknown
/// delivery tag"), so the multiple ack always names a tag acknowledged in this batch. Acks out of
/// order are sent one by one, at once: holding them back could starve a consumer whose prefetch
/// is full of deliveries it settles later.
struct AcknowledgementCoalescer {
    /// Every tag up to this one is settled.
    private(set) var settledThrough: UInt64 = 0
    /// Settled tags above `settledThrough`.
    private var settledAbove: Set<UInt64> = []
    private var pending: [UInt64] = []
    /// A consumer that holds one delivery forever would make `settledAbove` grow without end:
    /// past this many, acks go out one by one and nothing more is tracked.
    private var tracking = true
    static let trackingLimit = 65_536

    var hasPending: Bool { !pending.isEmpty }

    /// A new channel: its tags start again from 1.
    mutating func reset() {
        self = AcknowledgementCoalescer()
    }

    mutating func enqueueAck(_ tag: UInt64) {
        pending.append(tag)
    }

    /// The acks to send now, as (tag, multiple), for everything enqueued since the last call.
    mutating func drain() -> [(tag: UInt64, multiple: Bool)] {
        guard !pending.isEmpty else { return [] }
        defer { pending.removeAll(keepingCapacity: true) }
        guard tracking else { return pending.map { ($0, false) } }
        let batch = Set(pending)
        settledAbove.formUnion(batch)
        var highestOfBatch: UInt64?
        while settledAbove.remove(settledThrough + 1) != nil {
            settledThrough += 1
            if batch.contains(settledThrough) { highestOfBatch = settledThrough }
        }
        var acks: [(tag: UInt64, multiple: Bool)] = []
        if let highestOfBatch { acks.append((highestOfBatch, true)) }
        for tag in batch.sorted() where tag > settledThrough { acks.append((tag, false)) }
        if settledAbove.count > Self.trackingLimit {
            tracking = false
            settledAbove.removeAll()
        }
        return acks
    }

    /// A settlement sent as it is (a nack, a reject, an ack with `multiple`).
    mutating func settledDirectly(_ tag: UInt64, multiple: Bool) {
        guard tracking else { return }
        if multiple {
            settledThrough = max(settledThrough, tag)
            settledAbove = settledAbove.filter { $0 > settledThrough }
        } else {
            settledAbove.insert(tag)
        }
        while settledAbove.remove(settledThrough + 1) != nil { settledThrough += 1 }
    }
}
