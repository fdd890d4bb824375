import AMQP
import AMQPTesting
import Foundation
import Testing

@Suite("Round trips against the broker")
struct RoundTripTests {
    static func headers(for index: Int) -> AMQPTable {
        [
            "string": .string("message \(index) — Đà Nẵng"),
            "int32": .int32(Int32(index)),
            "int64": .int64(Int64(index) * 1_000_000_007),
            "negative": .int16(-12),
            "bool": .bool(index % 2 == 0),
            "double": .double(Double(index) / 3),
            "timestamp": .timestamp(Date(timeIntervalSince1970: 1_700_000_000 + Double(index))),
            "bytes": .bytes([0, 1, 2, 255, UInt8(index % 256)]),
            "decimal": .decimal(scale: 2, value: 12345),
            "nested": .table(["level": .int32(2), "inner": .table(["deep": .string("yes")])]),
            "array": .array([.string("a"), .int32(1), .bool(false), .table(["k": .string("v")])]),
            "void": .void,
        ]
    }

    static func properties(for index: Int) -> AMQPProperties {
        AMQPProperties(
            contentType: "application/json", contentEncoding: "identity", headers: headers(for: index),
            deliveryMode: .persistent, priority: UInt8(index % 10), correlationID: "dossier-\(index % 97)",
            replyTo: "reply-queue", expiration: "600000", messageID: "message-\(index)",
            timestamp: Date(timeIntervalSince1970: 1_760_000_000 + Double(index)),
            type: "registry.identity.verified.v1", userID: "guest", appID: "round-trip-test",
            clusterID: nil)
    }

    @Test("10,000 messages keep their properties and headers: none lost, none duplicated")
    func tenThousandMessages() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("round-trip")
        try await connection.declare(AMQPQueue(queue, kind: .quorum))
        let total = 10_000

        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<16 {
                group.addTask {
                    for index in stride(from: worker, to: total, by: 16) {
                        let body = Array("{\"index\":\(index)}".utf8)
                        try await connection.publish(
                            AMQPMessage(body: body, properties: Self.properties(for: index)),
                            exchange: "", routingKey: queue)
                    }
                }
            }
            try await group.waitForAll()
        }

        var seen = Set<Int>()
        var duplicates = 0
        let consumer = try await connection.consume(queue: queue, prefetch: 200)
        for try await delivery in consumer {
            let index = Int(delivery.properties.messageID!.dropFirst("message-".count))!
            #expect(delivery.properties == Self.properties(for: index))
            #expect(delivery.body == Array("{\"index\":\(index)}".utf8))
            if !seen.insert(index).inserted { duplicates += 1 }
            delivery.ack()
            if seen.count == total { break }
        }
        await consumer.cancel()
        #expect(seen.count == total)
        #expect(duplicates == 0)
        let status = try await connection.inspectQueue(queue)
        #expect(status.messageCount == 0)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("Large bodies span several frames")
    func largeBody() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("large")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        // Four frames of at most 128 KiB, and under the broker's max_message_size (512 KiB, scripts/broker).
        let body = (0..<400_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await connection.publish(AMQPMessage(body: body), exchange: "", routingKey: queue)
        try await connection.publish(AMQPMessage(body: []), exchange: "", routingKey: queue)
        let consumer = try await connection.consume(queue: queue)
        var bodies: [[UInt8]] = []
        for try await delivery in consumer {
            bodies.append(delivery.body)
            delivery.ack()
            if bodies.count == 2 { break }
        }
        #expect(bodies[0] == body)
        #expect(bodies[1].isEmpty)
        await connection.close()
    }
}

@Suite("Tasks on a connection's own thread")
struct ConnectionExecutorTests {
    @Test("Publishing and consuming from tasks that prefer the connection's thread")
    func onConnectionThread() async throws {
        let (_, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("executor")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        let total = 2_000
        try await withTaskExecutorPreference(connection.executor) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<32 {
                    group.addTask {
                        for index in stride(from: lane, to: total, by: 32) {
                            try await connection.publish(AMQPMessage("\(index)"), exchange: "", routingKey: queue)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let received = try await Task(executorPreference: connection.executor) {
            var seen = Set<String>()
            for try await delivery in try await connection.consume(queue: queue, prefetch: 100) {
                seen.insert(String(decoding: delivery.body, as: UTF8.self))
                delivery.ack()
                if seen.count == total { break }
            }
            return seen.count
        }.value
        #expect(received == total)
        await connection.close()
        // After the close, tasks that prefer the closed connection's thread still run.
        let afterClose = await Task(executorPreference: connection.executor) { 42 }.value
        #expect(afterClose == 42)
    }
}
