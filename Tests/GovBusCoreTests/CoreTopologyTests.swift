import AMQP
import AMQPTesting
import Foundation
import GovBusContracts
import Testing

@testable import GovBusCore

@Suite("The core's topology on a real broker")
struct CoreTopologyTests {
    /// A vhost of the test's own, so that these fixed names meet no other test.
    static func freshVhost(_ broker: TestBroker) async throws -> String {
        let vhost = TestBroker.uniqueName("govbus")
        try await broker.rabbitmqctl("add_vhost", vhost)
        try await broker.rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        return vhost
    }

    @Test("Declared twice without error; routing, inboxes, retries and dead letters work")
    func topology() async throws {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await Self.freshVhost(broker)
        let connection = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        let topology = CoreTopology(adapters: ["portal", "registry"], messageTypes: MessageCatalogue.all.map { $0.messageType })
        try await topology.declare(on: connection)
        try await topology.declare(on: connection)

        // Adapter → core: by type on the ingress; an unknown type is unroutable.
        try await connection.publish(
            AMQPMessage("{}"), exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.submitted.v1",
            mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 1)
        await #expect(throws: AMQPError.self) {
            try await connection.publish(
                AMQPMessage("{}"), exchange: CoreTopology.ingressExchange, routingKey: "portal.dossier.stolen.v1",
                mandatory: true)
        }
        // Core → adapter: by `<adapter>.<type>` on the deliver exchange.
        try await connection.publish(
            AMQPMessage("{}"), exchange: CoreTopology.deliverExchange,
            routingKey: "registry.registry.identity.verification-requested.v1", mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.inbox(of: "registry")).messageCount == 1)
        #expect(try await connection.inspectQueue(CoreTopology.inbox(of: "portal")).messageCount == 0)
        // Dead letters.
        try await connection.publish(AMQPMessage("{}"), exchange: CoreTopology.deadExchange, routingKey: "x", mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.deadLetterQueue).messageCount == 1)

        // A retry waits its delay, then comes back to its origin queue.
        try await connection.purgeQueue(CoreTopology.coreQueue)
        try await connection.publish(
            AMQPMessage("retry me"), exchange: CoreTopology.retryExchange("1s"), routingKey: CoreTopology.coreQueue,
            mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 0)
        let deadline = ContinuousClock.now + .seconds(10)
        var back: UInt32 = 0
        while back == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            back = try await connection.inspectQueue(CoreTopology.coreQueue).messageCount
        }
        #expect(back == 1)
        await connection.close()
        try await broker.rabbitmqctl("delete_vhost", vhost)
    }
}
