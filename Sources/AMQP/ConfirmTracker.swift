/// The messages of one confirm-mode channel that the broker has not yet confirmed, by delivery
/// tag. Tags start at 1 and grow by one per publish; a `multiple` confirm settles every tag up to
/// the one given.
struct ConfirmTracker<Pending> {
    private(set) var nextTag: UInt64 = 1
    private var unconfirmed: [UInt64: Pending] = [:]
    /// No unconfirmed tag is below this one.
    private var lowest: UInt64 = 1

    var count: Int { unconfirmed.count }
    var isEmpty: Bool { unconfirmed.isEmpty }

    mutating func register(_ pending: Pending) -> UInt64 {
        let tag = nextTag
        nextTag += 1
        unconfirmed[tag] = pending
        return tag
    }

    /// Removes and returns, in tag order, what a confirm of `tag` settles.
    mutating func settle(tag: UInt64, multiple: Bool) -> [Pending] {
        var settled: [Pending] = []
        if multiple {
            var current = lowest
            while current <= tag && current < nextTag {
                if let pending = unconfirmed.removeValue(forKey: current) { settled.append(pending) }
                current += 1
            }
        } else if let pending = unconfirmed.removeValue(forKey: tag) {
            settled.append(pending)
        }
        advanceLowest()
        return settled
    }

    /// Drops one tag without a confirm (its caller gave up waiting).
    mutating func forget(tag: UInt64) -> Pending? {
        let pending = unconfirmed.removeValue(forKey: tag)
        advanceLowest()
        return pending
    }

    /// The oldest unconfirmed message, if any.
    var oldest: (tag: UInt64, pending: Pending)? {
        guard let pending = unconfirmed[lowest] else { return nil }
        return (lowest, pending)
    }

    /// The first unconfirmed message, in tag order, that satisfies `predicate`.
    func first(where predicate: (Pending) -> Bool) -> Pending? {
        var current = lowest
        while current < nextTag {
            if let pending = unconfirmed[current], predicate(pending) { return pending }
            current += 1
        }
        return nil
    }

    /// Everything unconfirmed, in tag order, leaving the tracker empty (the channel is gone).
    mutating func removeAll() -> [Pending] {
        let all = unconfirmed.keys.sorted().map { unconfirmed[$0]! }
        unconfirmed.removeAll()
        lowest = nextTag
        return all
    }

    private mutating func advanceLowest() {
        while lowest < nextTag && unconfirmed[lowest] == nil { lowest += 1 }
    }
}

extension ConfirmTracker {
    /// Takes back the tag just registered, for a publish that never reached the socket: the broker
    /// did not count it, so the next publish must get the same tag.
    mutating func unregisterLast() -> Pending? {
        guard nextTag > 1 else { return nil }
        let tag = nextTag - 1
        let pending = unconfirmed.removeValue(forKey: tag)
        nextTag = tag
        if lowest > nextTag { lowest = nextTag }
        advanceLowest()
        return pending
    }
}
