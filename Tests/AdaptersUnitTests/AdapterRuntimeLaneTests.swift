import AMQP
import AMQPTesting
import Foundation
import GovBus
import GovBusContracts
import Logging
import Synchronization
import Testing

@testable import GovBusAdapterKit

/// The adapter runtime's inbox, outbox and retries, driven over an in-memory broker: no RabbitMQ.
@Suite("The adapter runtime over an in-memory broker: lanes, retries, dead letters, duplicates, the signed outbox")
struct AdapterRuntimeLaneTests {
    /// What the test connector saw: each try of each message, by message id.
    final class Journal: Sendable {
        let tries = Mutex<[String]>([])
        let handled = Mutex<[String]>([])
    }

    /// Handles heartbeats (any type would do): `failures[id]` transient failures first, then
    /// success with an answer in the outbox; an id starting with "permanent" never succeeds.
    struct TestConnector: Connector {
        let runtime: AdapterRuntime
        let journal: Journal
        let failures: [String: Int]

        var handlers: MessageHandlers {
            MessageHandlers().on(AdapterHeartbeatV1.self) { heartbeat, message in
                let tries = journal.tries.withLock { tries in
                    tries.append(message.messageID)
                    return tries.filter { $0 == message.messageID }.count
                }
                if message.messageID.hasPrefix("permanent") { throw AdapterFailure.permanent("never") }
                if tries <= failures[message.messageID, default: 0] { throw AdapterFailure.transient("not yet") }
                try await runtime.send(
                    heartbeat, correlationID: message.correlationID, causationID: message.messageID,
                    messageID: DerivedID.uuid("answer", message.messageID))
                journal.handled.withLock { $0.append(message.messageID) }
            }
        }
    }

    static func runtime() throws -> AdapterRuntime {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("runtime-lanes-\(UUID().uuidString)")
        let configuration = try AdapterConfiguration(
            """
            name: registry
            amqpUrl: amqp://registry:unused@127.0.0.1:1/govbus
            signingKey: {id: registry-test, seed: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}
            listen: 127.0.0.1:0
            system: http://127.0.0.1:9
            data: \(folder.path)
            heartbeat: 1h
            inboxRetries: 4
            """, file: "registry.yaml", folder: folder)
        var logger = Logger(label: "runtime-lanes")
        logger.logLevel = .critical
        return try AdapterRuntime(configuration: configuration, logger: logger)
    }

    static func message(_ id: String, dossier: String) throws -> AMQPMessage {
        let body = try AdapterHeartbeatV1(
            adapter: "core", version: "1", instance: dossier, startedAt: Date(), sentAt: Date(), status: .up
        ).jsonBody()
        return AMQPMessage(
            body: Array(body),
            properties: AMQPProperties(
                correlationID: dossier, messageID: id, type: AdapterHeartbeatV1.messageType, userID: "govbus-core"))
    }

    /// A broker with the adapter's inbox, and a queue that takes what it publishes.
    static func broker() -> InMemoryBroker {
        let broker = InMemoryBroker(user: "registry")
        broker.declare(queue: BusAddresses.inbox(of: "registry"))
        broker.bind(queue: "ingress", exchange: BusAddresses.ingressExchange)
        return broker
    }

    static let inbox = BusAddresses.inbox(of: "registry")

    /// What the adapter published but heartbeats: the answers, which name what they answer.
    static func answers(_ broker: InMemoryBroker) -> [InMemoryBroker.Published] {
        broker.published.filter { $0.message.properties.headers?[BusHeader.causationID] != nil }
    }

    /// Two dossiers whose messages go to different lanes.
    static func dossiersInTwoLanes() -> (String, String) {
        let lane = { (dossier: String) in Int(UInt(bitPattern: AdapterRuntime.stableHash(dossier)) % UInt(AdapterRuntime.lanes)) }
        let first = "HS-A"
        let second = (0..<100).map { "HS-B\($0)" }.first { lane($0) != lane(first) }!
        return (first, second)
    }

    @Test("A dossier's message that fails for a while holds back that dossier's next one, not another dossier's; then both go")
    func lanesAndRetries() async throws {
        let (slow, fast) = Self.dossiersInTwoLanes()
        let runtime = try Self.runtime()
        let broker = Self.broker()
        let journal = Journal()
        let connector = TestConnector(runtime: runtime, journal: journal, failures: ["a1": 2])
        let running = Task { try await runtime.run(connector, over: broker) }
        defer { running.cancel() }

        for (id, dossier) in [("a1", slow), ("a2", slow), ("b1", fast)] { broker.put(try Self.message(id, dossier: dossier), on: Self.inbox) }
        try await broker.wait(until: { $0.acked.count == 3 })

        // b1 went while a1 was still failing; a2 waited for a1, in order.
        #expect(journal.handled.withLock { $0 } == ["b1", "a1", "a2"])
        #expect(journal.tries.withLock { $0.filter { $0 == "a1" }.count } == 3)
        #expect(broker.settlements(of: "a1") == [.acked])
        #expect(broker.acked == ["b1", "a1", "a2"])

        // Each answer went out signed, as the adapter's user, with its causation.
        try await broker.wait(until: { Self.answers($0).count == 3 })
        let answers = Self.answers(broker)
        for answer in answers {
            #expect(answer.exchange == BusAddresses.ingressExchange)
            #expect(answer.routingKey == AdapterHeartbeatV1.messageType)
            #expect(answer.message.properties.userID == "registry")
            #expect(answer.message.properties.headers?[BusHeader.signature]?.stringValue?.isEmpty == false)
        }
        #expect(Set(answers.compactMap { $0.message.properties.headers?[BusHeader.causationID]?.stringValue }) == ["a1", "a2", "b1"])
    }

    @Test("What a message causes goes out in its trace (stored with the outbox entry); a forged trace header goes no further")
    func traceCarriedThroughTheOutbox() async throws {
        let runtime = try Self.runtime()
        let broker = Self.broker()
        let connector = TestConnector(runtime: runtime, journal: Journal(), failures: [:])
        let running = Task { try await runtime.run(connector, over: broker) }
        defer { running.cancel() }

        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        var traced = try Self.message("t1", dossier: "HS-T1")
        traced.properties.headers = [BusHeader.traceparent: .string(traceparent), BusHeader.tracestate: .string("vendor=1")]
        var forged = try Self.message("t2", dossier: "HS-T2")
        forged.properties.headers = [BusHeader.traceparent: .string("00-zz\r\nX-Injected: yes")]
        for message in [traced, forged] { broker.put(message, on: Self.inbox) }
        try await broker.wait(until: { Self.answers($0).count == 2 })
        let answers = Dictionary(
            uniqueKeysWithValues: Self.answers(broker).map {
                ($0.message.properties.headers?[BusHeader.causationID]?.stringValue ?? "", $0.message.properties.headers ?? [:])
            })
        #expect(answers["t1"]?[BusHeader.traceparent] == .string(traceparent))
        #expect(answers["t1"]?[BusHeader.tracestate] == .string("vendor=1"))
        #expect(answers["t2"]?[BusHeader.traceparent] == nil)
    }

    @Test("A permanent failure, a type without a handler and a body that is not its type go to the dead letters at once; a repeat of a handled message is acked unhandled")
    func deadLettersAndDuplicates() async throws {
        let runtime = try Self.runtime()
        let broker = Self.broker()
        let inbox = Self.inbox
        let journal = Journal()
        let running = Task { try await runtime.run(TestConnector(runtime: runtime, journal: journal, failures: [:]), over: broker) }
        defer { running.cancel() }

        broker.put(try Self.message("permanent-1", dossier: "HS-1"), on: inbox)
        var otherType = try Self.message("other-type", dossier: "HS-2")
        otherType.properties.type = "payment.fee.requested.v1"
        broker.put(otherType, on: inbox)
        var badBody = try Self.message("bad-body", dossier: "HS-3")
        badBody.body = Array(#"{"adapter": 7}"#.utf8)
        broker.put(badBody, on: inbox)
        broker.put(try Self.message("ok-1", dossier: "HS-4"), on: inbox)
        try await broker.wait(until: { $0.deadLettered.count == 3 && $0.acked == ["ok-1"] })
        #expect(Set(broker.deadLettered.compactMap(\.properties.messageID)) == ["permanent-1", "other-type", "bad-body"])
        #expect(journal.tries.withLock { $0.filter { $0 == "permanent-1" }.count } == 1)

        // The broker delivers ok-1 again (a lost ack): acked, not handled twice, no second answer.
        broker.put(try Self.message("ok-1", dossier: "HS-4"), on: inbox)
        try await broker.wait(until: { $0.acked == ["ok-1", "ok-1"] })
        #expect(journal.handled.withLock { $0 } == ["ok-1"])
    }

    @Test("While the broker refuses to publish, answers wait in the outbox; once it takes them, each goes out once")
    func outboxWaitsForTheBroker() async throws {
        let runtime = try Self.runtime()
        let broker = Self.broker()
        let inbox = Self.inbox
        broker.refusePublishing = true
        let journal = Journal()
        let running = Task { try await runtime.run(TestConnector(runtime: runtime, journal: journal, failures: [:]), over: broker) }
        defer { running.cancel() }

        for index in 0..<5 { broker.put(try Self.message("m\(index)", dossier: "HS-\(index)"), on: inbox) }
        try await broker.wait(until: { $0.acked.count == 5 })
        #expect(try runtime.outbox.count == 5)
        broker.refusePublishing = false
        try await broker.wait(until: { _ in (try? runtime.outbox.count) == 0 })
        let answers = Self.answers(broker)
        #expect(answers.count == 5)
        #expect(Set(answers.compactMap(\.message.properties.messageID)).count == 5)
    }
}
