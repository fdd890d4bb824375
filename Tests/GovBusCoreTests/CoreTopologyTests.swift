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

    @Test("Three members per queue on a cluster: one queue each of the core, an inbox and the dead letters")
    func replicasOnACluster() {
        let types = ["portal.dossier.submitted.v1"]
        #expect(CoreTopology.replicas(forNodes: 1) == 1)
        #expect(CoreTopology.replicas(forNodes: 3) == 3)
        #expect(CoreTopology.replicas(forNodes: 5) == 3)
        let single = CoreTopology(adapters: ["portal"], messageTypes: types)
        #expect(single.queues.allSatisfy { $0.arguments["x-quorum-initial-group-size"] == nil })
        let cluster = CoreTopology(adapters: ["portal"], messageTypes: types, partitions: 2, replicas: 3)
        #expect(cluster.queues.allSatisfy { $0.kind == .quorum && $0.arguments["x-quorum-initial-group-size"] == .int32(3) })
        #expect(cluster.queues.count == single.queues.count + 1)
    }

    @Test("A deployment that grows to a cluster: its queues are declared again with 3 members, their waiting messages kept")
    func growingToACluster() async throws {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await Self.freshVhost(broker)
        let connection = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        let type = "portal.dossier.submitted.v1"
        let oneNode = CoreTopology(adapters: ["portal"], messageTypes: [type])
        try await oneNode.declare(on: connection)
        for index in 0..<20 {
            try await connection.publish(
                AMQPMessage("waiting \(index)", properties: AMQPProperties(deliveryMode: .persistent, messageID: "m-\(index)")),
                exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        }
        try await connection.publish(
            AMQPMessage("for the portal", properties: AMQPProperties(deliveryMode: .persistent)),
            exchange: CoreTopology.deliverExchange, routingKey: "portal.\(type)", mandatory: true)

        let threeNodes = CoreTopology(adapters: ["portal"], messageTypes: [type], replicas: 3)
        try await threeNodes.declare(on: connection)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 20)
        #expect(try await connection.inspectQueue(CoreTopology.inbox(of: "portal")).messageCount == 1)
        let arguments = try await broker.rabbitmqctl("list_queues", "-p", vhost, "name", "arguments")
        for queue in threeNodes.queues.map(\.name) {
            let line = arguments.split(separator: "\n").first { $0.hasPrefix("\(queue)\t") }
            #expect(line?.contains("x-quorum-initial-group-size") == true, "\(queue): \(line ?? "missing")")
        }
        // Declared so now: declaring it so again is no conflict, and routing still reaches the core.
        try await threeNodes.declare(on: connection)
        try await connection.publish(AMQPMessage("after"), exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 21)
        await connection.close()
    }
}
