@testable import AMQP
import Testing

@Suite("Acknowledgement coalescing, without a broker")
struct AcknowledgementCoalescerTests {
    @Test("Acks in order become one multiple ack for the highest")
    func inOrder() {
        var coalescer = AcknowledgementCoalescer()
        for tag in 1...5 { coalescer.enqueueAck(UInt64(tag)) }
        let acks = coalescer.drain()
        #expect(acks.map(\.tag) == [5])
        #expect(acks.map(\.multiple) == [true])
        #expect(coalescer.settledThrough == 5)
        #expect(coalescer.drain().isEmpty)
    }

    @Test("A held delivery: later acks go out one by one, then one multiple ack covers the gap")
    func outOfOrder() {
        var coalescer = AcknowledgementCoalescer()
        coalescer.enqueueAck(1)
        coalescer.enqueueAck(3)
        coalescer.enqueueAck(4)
        let first = coalescer.drain()
        #expect(first.map(\.tag) == [1, 3, 4])
        #expect(first.map(\.multiple) == [true, false, false])
        // Tag 2 is acked at last: the multiple ack names 2 (not 4, which the broker has settled).
        coalescer.enqueueAck(2)
        coalescer.enqueueAck(5)
        let second = coalescer.drain()
        #expect(second.map(\.tag) == [5])
        #expect(second.map(\.multiple) == [true])
        #expect(coalescer.settledThrough == 5)
    }

    @Test("A nack or reject in the middle counts as settled")
    func withNacks() {
        var coalescer = AcknowledgementCoalescer()
        coalescer.settledDirectly(2, multiple: false)
        coalescer.enqueueAck(1)
        coalescer.enqueueAck(3)
        let acks = coalescer.drain()
        #expect(acks.map(\.tag) == [3])
        #expect(acks.map(\.multiple) == [true])
        coalescer.settledDirectly(10, multiple: true)
        #expect(coalescer.settledThrough == 10)
        coalescer.enqueueAck(11)
        #expect(coalescer.drain().map(\.tag) == [11])
    }

    @Test("A delivery never settled stops the tracking past its limit, and acks still go out")
    func trackingLimit() {
        var coalescer = AcknowledgementCoalescer()
        let last = UInt64(AcknowledgementCoalescer.trackingLimit + 10)
        for tag in 2...last { coalescer.enqueueAck(tag) }
        #expect(coalescer.drain().count == Int(last - 1))
        coalescer.enqueueAck(last + 1)
        let acks = coalescer.drain()
        #expect(acks.map(\.tag) == [last + 1])
        #expect(acks.map(\.multiple) == [false])
    }
}
