import AMQP
import AMQPTesting
import Foundation
import Glibc
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// A message that kills the core (here by the test-only fault switch `GOVBUS_TEST_CRASH_ON`) kills
/// it once: started again, the core sends it to the dead letters and serves the rest.
@Suite("No crash loop")
struct CrashLoopTests {
    @Test("A message that kills the core goes to the dead letters when the core comes back, and the next dossier is served")
    func poisonMessage() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: bus.routesText)
        let poison = "H01.04-251121-6666"
        func startCore() throws -> ChildProcess.Running {
            try ChildProcess.start(
                CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
                environment: [
                    "GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_TEST_CRASH_ON": poison,
                    // Swift's backtracer takes tens of seconds over a debug build on a loaded machine.
                    "SWIFT_BACKTRACE": "enable=no",
                ])
        }
        let watcher = try await AMQPConnection.connect(url: url)
        var core = try startCore()
        try await CoreCrashTests().waitUntil("the core consumes") {
            (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }
        var dossier = CoreFixtures.dossier
        dossier.dossierId = poison
        try await bus.test.send(dossier, as: "portal", dossier: poison)
        let status = try await core.exitStatus(within: .seconds(60))
        #expect(status != nil && status != 0, "the fault switch did not kill the core: \(String(describing: status))")

        // Started again, as `govbus up` and the deployment do: the same message does not kill it twice.
        core = try startCore()
        try await CoreCrashTests().waitUntil("the poison in the dead letters") {
            (try? await watcher.inspectQueue(CoreTopology.deadLetterQueue).messageCount) == 1
        }
        let consumer = try await watcher.consume(queue: CoreTopology.deadLetterQueue)
        for try await dead in consumer {
            #expect(dead.properties.correlationID == poison)
            #expect(dead.properties.headers?["govbus-error-check"] == .string("crash"))
            dead.ack()
            break
        }
        var victim = CoreFixtures.dossier
        victim.dossierId = "H01.04-251121-6667"
        try await bus.test.send(victim, as: "portal", dossier: victim.dossierId)
        let registryInbox = CoreTopology.inbox(of: bus.test.names["registry"]!)
        try await CoreCrashTests().waitUntil("the victim's identity request") {
            (try? await watcher.inspectQueue(registryInbox).messageCount) == 1
        }
        #expect(try await core.exitStatus(within: .milliseconds(200)) == nil)
        core.send(signal: SIGTERM)
        _ = try await core.exitStatus(within: .seconds(20))
        await watcher.close()
        try await bus.tearDown()
    }

    @Test("The core's queue of an older topology is migrated to the delivery limit with its waiting messages")
    func migration() async throws {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await CoreTopologyTests.freshVhost(broker)
        let connection = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        // As an earlier core declared it: a quorum queue without a delivery limit, holding messages.
        try await connection.declare(AMQPExchange(CoreTopology.ingressExchange, kind: .direct))
        try await connection.declare(AMQPQueue(CoreTopology.coreQueue, kind: .quorum))
        let type = "portal.dossier.submitted.v1"
        try await connection.bind(AMQPBinding(queue: CoreTopology.coreQueue, exchange: CoreTopology.ingressExchange, routingKey: type))
        for index in 0..<50 {
            try await connection.publish(
                AMQPMessage("waiting \(index)", properties: AMQPProperties(deliveryMode: .persistent, messageID: "m-\(index)")),
                exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        }
        let topology = CoreTopology(adapters: ["portal"], messageTypes: [type])
        try await topology.declare(on: connection)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 50)
        // Declared with the limit now: declaring it so again is no conflict.
        try await connection.declare(topology.coreIngress())
        let arguments = try await broker.rabbitmqctl("list_queues", "-p", vhost, "name", "arguments")
        #expect(arguments.contains("x-delivery-limit"), "\(arguments)")
        let holding = await #expect(throws: AMQPError.self) {
            try await connection.inspectQueue("\(CoreTopology.coreQueue).migrating")
        }
        #expect(holding?.replyCode == 404)
        // In their order, and new messages still arrive through the ingress.
        try await connection.publish(
            AMQPMessage("new", properties: AMQPProperties(deliveryMode: .persistent, messageID: "m-new")),
            exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        var seen: [String] = []
        for try await delivery in try await connection.consume(queue: CoreTopology.coreQueue, prefetch: 100) {
            seen.append(delivery.properties.messageID ?? "")
            delivery.ack()
            if seen.count == 51 { break }
        }
        #expect(seen == (0..<50).map { "m-\($0)" } + ["m-new"])
        await connection.close()
        try await broker.rabbitmqctl("delete_vhost", vhost)
    }
}
