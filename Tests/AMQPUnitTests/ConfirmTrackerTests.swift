@testable import AMQP
import Testing

@Suite("Confirm tracker, without a broker")
struct ConfirmTrackerTests {
    @Test("Single and multiple confirms settle the right tags, in order")
    func settling() {
        var tracker = ConfirmTracker<String>()
        for name in ["a", "b", "c", "d", "e"] { _ = tracker.register(name) }
        #expect(tracker.settle(tag: 2, multiple: false) == ["b"])
        #expect(tracker.settle(tag: 4, multiple: true) == ["a", "c", "d"])
        #expect(tracker.count == 1)
        #expect(tracker.oldest?.tag == 5)
        #expect(tracker.settle(tag: 4, multiple: true).isEmpty)
        #expect(tracker.settle(tag: 5, multiple: false) == ["e"])
        #expect(tracker.isEmpty)
        #expect(tracker.register("f") == 6)
    }

    @Test("A publish that never left can be taken back, and the next one reuses its tag")
    func unregister() {
        var tracker = ConfirmTracker<String>()
        _ = tracker.register("a")
        _ = tracker.register("b")
        #expect(tracker.unregisterLast() == "b")
        #expect(tracker.register("c") == 2)
        #expect(tracker.settle(tag: 2, multiple: true) == ["a", "c"])
    }

    @Test("Everything unconfirmed comes back in order when the channel goes")
    func removeAll() {
        var tracker = ConfirmTracker<Int>()
        for number in 1...100 { _ = tracker.register(number) }
        _ = tracker.settle(tag: 50, multiple: false)
        let rest = tracker.removeAll()
        #expect(rest == Array(1...49) + Array(51...100))
        #expect(tracker.isEmpty)
        #expect(tracker.first { _ in true } == nil)
    }

    @Test("Finding the returned message: the first match in tag order")
    func firstMatch() {
        var tracker = ConfirmTracker<String>()
        for name in ["x1", "y1", "x2"] { _ = tracker.register(name) }
        #expect(tracker.first { $0.hasPrefix("x") } == "x1")
        _ = tracker.forget(tag: 1)
        #expect(tracker.first { $0.hasPrefix("x") } == "x2")
    }
}
