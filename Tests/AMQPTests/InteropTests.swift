import AMQP
import AMQPTesting
import Foundation
import Testing

/// Clients no one here wrote: Debian's amqp-tools and Python's pika, both ways.
@Suite("Interoperability with amqp-tools and pika")
struct InteropTests {
    static let peerScript = TestBroker.repositoryRoot.appendingPathComponent("Tests/AMQPTests/Interop/pika_peer.py").path

    func receiveOne(_ connection: AMQPConnection, from queue: String) async throws -> AMQPDelivery {
        let consumer = try await connection.consume(queue: queue)
        let delivery = try await nextDelivery(consumer, within: .seconds(20))
        delivery.ack()
        await consumer.cancel()
        return delivery
    }

    @Test("amqp-publish to GovBus: body, content type and headers arrive as sent")
    func fromAmqpTools() async throws {
        let (broker, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("from-amqp-tools")
        try await connection.declare(AMQPQueue(queue))
        defer { Task { try? await connection.deleteQueue(queue) } }
        let body = "{\"dossierId\":\"HS-2026-000123\",\"note\":\"Hồ sơ đăng ký khai sinh\"}"
        _ = try await TestBroker.onOwnThread {
            try ChildProcess.run(
                "/usr/bin/amqp-publish",
                [
                    "--url", broker.amqpURL, "-r", queue, "-C", "application/json", "-p",
                    "-H", "govbus-causation-id: 7f9c", "-H", "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "-b", body,
                ])
        }
        let delivery = try await receiveOne(connection, from: queue)
        #expect(String(decoding: delivery.body, as: UTF8.self) == body)
        #expect(delivery.properties.contentType == "application/json")
        #expect(delivery.properties.deliveryMode == .persistent)
        #expect(delivery.properties.headers?["govbus-causation-id"] == .string("7f9c"))
        #expect(
            delivery.properties.headers?["traceparent"]
                == .string("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
        await connection.close()
    }

    @Test("GovBus to amqp-consume: the body arrives as sent")
    func toAmqpTools() async throws {
        let (broker, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("to-amqp-tools")
        try await connection.declare(AMQPQueue(queue))
        let bodies = ["first — một", "second\nwith a newline", String(repeating: "x", count: 200_000)]
        for body in bodies {
            try await connection.publish(
                AMQPMessage(body, properties: AMQPProperties(contentType: "text/plain")), exchange: "",
                routingKey: queue)
        }
        // amqp-consume runs its command once per message with the body on standard input; the
        // command frames each body so that the test can split them again.
        let output = try await TestBroker.onOwnThread {
            try ChildProcess.run(
                "/usr/bin/amqp-consume",
                ["--url", broker.amqpURL, "-q", queue, "-c", "\(bodies.count)", "--", "/bin/sh", "-c", "cat; printf '\\036'"])
        }
        let received = output.split(separator: "\u{1E}", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(received == bodies)
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("pika to GovBus: body, content type and headers arrive as sent")
    func fromPika() async throws {
        let (broker, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("from-pika")
        try await connection.declare(AMQPQueue(queue))
        let message = """
            {"body": "{\\"amount\\": 150000}", "content_type": "application/json", "message_id": "pika-1",
             "headers": {"govbus-attempt": 3, "govbus-key-id": "portal-2026", "flag": true,
                         "nested": {"commune": "00001", "list": [1, "two"]}}}
            """
        _ = try await TestBroker.onOwnThread {
            try ChildProcess.run("/usr/bin/env", ["python3", Self.peerScript, "publish", broker.amqpURL, queue, message])
        }
        let delivery = try await receiveOne(connection, from: queue)
        #expect(String(decoding: delivery.body, as: UTF8.self) == "{\"amount\": 150000}")
        #expect(delivery.properties.contentType == "application/json")
        #expect(delivery.properties.messageID == "pika-1")
        let headers = delivery.properties.headers ?? [:]
        #expect(headers["govbus-attempt"]?.integerValue == 3)
        #expect(headers["govbus-key-id"] == .string("portal-2026"))
        #expect(headers["flag"] == .bool(true))
        guard case .table(let nested)? = headers["nested"] else {
            Issue.record("no nested table: \(headers)")
            return
        }
        #expect(nested["commune"] == .string("00001"))
        guard case .array(let list)? = nested["list"] else {
            Issue.record("no array: \(nested)")
            return
        }
        #expect(list.first?.integerValue == 1)
        #expect(list.last == .string("two"))
        try await connection.deleteQueue(queue)
        await connection.close()
    }

    @Test("GovBus to pika: body, content type and headers arrive as sent")
    func toPika() async throws {
        let (broker, connection) = try await connectToTestBroker()
        let queue = TestBroker.uniqueName("to-pika")
        try await connection.declare(AMQPQueue(queue))
        let headers: AMQPTable = [
            "govbus-signature": .string("c2lnbmF0dXJl"), "govbus-attempt": .int32(2), "urgent": .bool(false),
            "sent": .timestamp(Date(timeIntervalSince1970: 1_763_700_000)), "raw": .bytes([1, 2, 3]),
            "route": .table(["adapter": .string("registry"), "hops": .array([.int64(1), .string("core")])]),
        ]
        try await connection.publish(
            AMQPMessage(
                "{\"verified\":true}",
                properties: AMQPProperties(contentType: "application/json", headers: headers, messageID: "swift-1")),
            exchange: "", routingKey: queue)
        let output = try await TestBroker.onOwnThread {
            try ChildProcess.run("/usr/bin/env", ["python3", Self.peerScript, "consume", broker.amqpURL, queue, "1"])
        }
        let line = try #require(output.split(separator: "\n").first)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(json["body"] as? String == "{\"verified\":true}")
        #expect(json["content_type"] as? String == "application/json")
        #expect(json["message_id"] as? String == "swift-1")
        let received = try #require(json["headers"] as? [String: Any])
        #expect(received["govbus-signature"] as? String == "c2lnbmF0dXJl")
        #expect(received["govbus-attempt"] as? Int == 2)
        #expect(received["urgent"] as? Bool == false)
        #expect((received["sent"] as? [String: Any])?["timestamp"] as? Int == 1_763_700_000)
        #expect((received["raw"] as? [String: Any])?["bytes"] as? String == "AQID")
        let route = try #require(received["route"] as? [String: Any])
        #expect(route["adapter"] as? String == "registry")
        #expect((route["hops"] as? [Any])?.count == 2)
        try await connection.deleteQueue(queue)
        await connection.close()
    }
}
