import AMQP
import AMQPTesting
import Foundation
import Testing

@Suite("Channels, topology, publishing and consuming")
struct ChannelAndTopologyTests {
    @Test("Publishing to a missing exchange: the channel is closed with 404, the next publish works")
    func missingExchange() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("after-404")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        let missing = TestBroker.uniqueName("no-such-exchange")
        let error = await expectAMQPError(.channelClosed) {
            try await connection.publish(AMQPMessage("lost"), exchange: missing, routingKey: "x")
        }
        #expect(error?.replyCode == 404)
        #expect(error?.message.contains(missing) == true)
        try await connection.publish(AMQPMessage("next"), exchange: "", routingKey: queue)
        #expect(try await connection.inspectQueue(queue).messageCount == 1)
        await connection.close()
    }

    @Test("A mandatory message that reaches no queue fails its publish; a non-mandatory one does not")
    func mandatoryReturn() async throws {
        let (_, connection) = try await connectToTestBroker()
        let key = TestBroker.uniqueName("unbound-key")
        let error = await expectAMQPError(.unroutable) {
            try await connection.publish(
                AMQPMessage("nowhere", properties: AMQPProperties(messageID: "m-1")), exchange: "amq.direct",
                routingKey: key, mandatory: true)
        }
        #expect(error?.replyCode == 312)
        try await connection.publish(AMQPMessage("dropped"), exchange: "amq.direct", routingKey: key)
        // Routable mandatory messages published around a returned one still succeed.
        let queue = TestBroker.uniqueName("mandatory")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do {
                        try await connection.publish(
                            AMQPMessage("m", properties: AMQPProperties(messageID: "\(index)")), exchange: "",
                            routingKey: index % 2 == 0 ? queue : key, mandatory: true)
                        return index % 2 == 0
                    } catch let error as AMQPError where error.kind == .unroutable {
                        return index % 2 == 1
                    }
                }
            }
            for try await correct in group { #expect(correct) }
        }
        #expect(try await connection.inspectQueue(queue).messageCount == 10)
        await connection.close()
    }

    @Test("A message the broker refuses (a full queue that rejects publishes) fails with nacked")
    func nackedPublish() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("full")
        try await connection.declare(
            AMQPQueue(queue, exclusive: true, arguments: ["x-max-length": .int32(2), "x-overflow": "reject-publish"]))
        try await connection.publish(AMQPMessage("1"), exchange: "", routingKey: queue)
        try await connection.publish(AMQPMessage("2"), exchange: "", routingKey: queue)
        let error = await expectAMQPError(.nacked) {
            try await connection.publish(AMQPMessage("3"), exchange: "", routingKey: queue)
        }
        #expect(error != nil)
        // The channel stays usable: after a purge the queue takes messages again.
        try await connection.purgeQueue(queue)
        try await connection.publish(AMQPMessage("4"), exchange: "", routingKey: queue)
        #expect(try await connection.inspectQueue(queue).messageCount == 1)
        await connection.close()
    }

    @Test("Each exchange type routes as it should")
    func exchangeTypes() async throws {
        let (_, connection) = try await connectToTestBroker()
        let prefix = TestBroker.uniqueName("route")
        let kinds: [AMQPExchangeKind] = [.direct, .topic, .fanout, .headers]
        for kind in kinds {
            try await connection.declare(AMQPExchange("\(prefix).\(kind)", kind: kind, durable: false, autoDelete: true))
        }
        let matched = "\(prefix).matched"
        let other = "\(prefix).other"
        try await connection.declare(AMQPQueue(matched, exclusive: true))
        try await connection.declare(AMQPQueue(other, exclusive: true))
        try await connection.bind(AMQPBinding(queue: matched, exchange: "\(prefix).direct", routingKey: "portal"))
        try await connection.bind(AMQPBinding(queue: matched, exchange: "\(prefix).topic", routingKey: "portal.#"))
        try await connection.bind(AMQPBinding(queue: matched, exchange: "\(prefix).fanout", routingKey: ""))
        try await connection.bind(
            AMQPBinding(
                queue: matched, exchange: "\(prefix).headers", routingKey: "",
                arguments: ["x-match": "all", "agency": "registry"]))
        try await connection.bind(AMQPBinding(queue: other, exchange: "\(prefix).topic", routingKey: "bank.*"))

        try await connection.publish(AMQPMessage("1"), exchange: "\(prefix).direct", routingKey: "portal")
        try await connection.publish(AMQPMessage("x"), exchange: "\(prefix).direct", routingKey: "bank")
        try await connection.publish(AMQPMessage("2"), exchange: "\(prefix).topic", routingKey: "portal.dossier.submitted")
        try await connection.publish(AMQPMessage("3"), exchange: "\(prefix).topic", routingKey: "bank.paid")
        try await connection.publish(AMQPMessage("4"), exchange: "\(prefix).fanout", routingKey: "anything")
        try await connection.publish(
            AMQPMessage("5", properties: AMQPProperties(headers: ["agency": "registry"])),
            exchange: "\(prefix).headers", routingKey: "")
        try await connection.publish(
            AMQPMessage("x", properties: AMQPProperties(headers: ["agency": "bank"])),
            exchange: "\(prefix).headers", routingKey: "")
        #expect(try await connection.inspectQueue(matched).messageCount == 4)
        #expect(try await connection.inspectQueue(other).messageCount == 1)

        try await connection.unbind(AMQPBinding(queue: other, exchange: "\(prefix).topic", routingKey: "bank.*"))
        try await connection.publish(AMQPMessage("6"), exchange: "\(prefix).topic", routingKey: "bank.paid")
        #expect(try await connection.inspectQueue(other).messageCount == 1)
        try await connection.deleteExchange("\(prefix).direct")
        await expectAMQPError(.channelClosed) { try await connection.inspectExchange("\(prefix).direct") }
        try await connection.inspectExchange("\(prefix).topic")
        await connection.close()
    }

    @Test("Queue arguments: TTL and dead-letter exchange on a classic queue, delivery limit on a quorum queue")
    func queueArguments() async throws {
        let (_, connection) = try await connectToTestBroker()
        let name = TestBroker.uniqueName("args")
        let deadLetters = "\(name).dead"
        try await connection.declare(AMQPExchange("\(name).dlx", kind: .fanout, durable: false, autoDelete: true))
        try await connection.declare(AMQPQueue(deadLetters, exclusive: true))
        try await connection.bind(AMQPBinding(queue: deadLetters, exchange: "\(name).dlx", routingKey: ""))
        try await connection.declare(
            AMQPQueue(
                "\(name).ttl", exclusive: true,
                arguments: ["x-message-ttl": .int32(50), "x-dead-letter-exchange": .string("\(name).dlx")]))
        try await connection.publish(AMQPMessage("expires"), exchange: "", routingKey: "\(name).ttl")

        let deadConsumer = try await connection.consume(queue: deadLetters)
        let expired = try await nextDelivery(deadConsumer)
        #expect(expired.body == Array("expires".utf8))
        guard case .array(let deaths)? = expired.properties.headers?["x-death"],
            case .table(let death)? = deaths.first
        else {
            Issue.record("no x-death header: \(String(describing: expired.properties.headers))")
            return
        }
        #expect(death["reason"] == .string("expired"))
        expired.ack()

        // A quorum queue with a delivery limit of 1: the second requeue dead-letters the message.
        let quorum = "\(name).quorum"
        try await connection.declare(
            AMQPQueue(
                quorum, kind: .quorum,
                arguments: ["x-delivery-limit": .int32(1), "x-dead-letter-exchange": .string("\(name).dlx")]))
        try await connection.publish(AMQPMessage("poison"), exchange: "", routingKey: quorum)
        let quorumConsumer = try await connection.consume(queue: quorum, prefetch: 1)
        let first = try await nextDelivery(quorumConsumer)
        #expect(!first.redelivered)
        first.nack(requeue: true)
        let second = try await nextDelivery(quorumConsumer)
        #expect(second.redelivered)
        second.nack(requeue: true)
        let poisoned = try await nextDelivery(deadConsumer)
        #expect(poisoned.body == Array("poison".utf8))
        poisoned.ack()
        await quorumConsumer.cancel()

        // A passive declare reports what the queue holds and who consumes it.
        try await connection.publish(AMQPMessage("waiting"), exchange: "", routingKey: quorum)
        try await Task.sleep(for: .milliseconds(200))
        let status = try await connection.inspectQueue(quorum)
        #expect(status.messageCount == 1)
        #expect(status.consumerCount == 0)
        #expect(try await connection.purgeQueue(quorum) == 1)
        try await connection.deleteQueue(quorum)
        await expectAMQPError(.channelClosed) { _ = try await connection.inspectQueue(quorum) }
        await connection.close()
    }

    @Test("Redeclaring a queue with other arguments is refused with 406; the connection goes on")
    func preconditionFailed() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("precondition")
        try await connection.declare(AMQPQueue(queue, kind: .quorum))
        let error = await expectAMQPError(.channelClosed) {
            try await connection.declare(AMQPQueue(queue, kind: .classic))
        }
        #expect(error?.replyCode == 406)
        try await connection.declare(AMQPQueue(queue, kind: .quorum))
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("Reject without requeue drops to the dead letters; reject with requeue redelivers; cancel requeues the unsettled")
    func rejectAndCancel() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("reject")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        for index in 0..<3 {
            try await connection.publish(AMQPMessage("\(index)"), exchange: "", routingKey: queue)
        }
        let consumer = try await connection.consume(queue: queue, prefetch: 10)
        let zero = try await nextDelivery(consumer)
        zero.reject(requeue: false)
        let one = try await nextDelivery(consumer)
        one.reject(requeue: true)
        let two = try await nextDelivery(consumer)
        #expect(two.body == Array("2".utf8))
        let oneAgain = try await nextDelivery(consumer)
        #expect(oneAgain.body == Array("1".utf8))
        #expect(oneAgain.redelivered)
        // Neither `two` nor `oneAgain` is settled: cancelling returns both to the queue.
        await consumer.cancel()
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await connection.inspectQueue(queue).messageCount == 2)
        var ended = true
        for try await _ in consumer { ended = false }
        #expect(ended)
        await connection.close()
    }

    @Test("Consuming a missing queue fails with 404 and leaves the connection usable")
    func consumeMissingQueue() async throws {
        let (_, connection) = try await connectToTestBroker()
        let error = await expectAMQPError(.channelClosed) {
            _ = try await connection.consume(queue: TestBroker.uniqueName("missing"))
        }
        #expect(error?.replyCode == 404)
        try await connection.publish(AMQPMessage("fine"), exchange: "amq.fanout", routingKey: "")
        await connection.close()
    }

    @Test("Deleting a consumed queue ends its consumer with an error")
    func brokerCancelsConsumer() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("deleted")
        try await connection.declare(AMQPQueue(queue))
        let consumer = try await connection.consume(queue: queue)
        try await connection.deleteQueue(queue)
        let error = await expectAMQPError(.consumerCancelled) {
            for try await _ in consumer {}
        }
        #expect(error != nil)
        await connection.close()
    }
}
