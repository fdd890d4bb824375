import AMQP
import AMQPTesting
import Foundation
import GovBusContracts
import Testing

@testable import GovBusCore

@Suite("The core's queue in partitions, and changes of their number")
struct PartitionLayoutTests {
    let type = "portal.dossier.submitted.v1"

    func message(_ dossier: String) -> AMQPMessage {
        var message = AMQPMessage("{}")
        message.properties.correlationID = dossier
        message.properties.type = type
        return message
    }

    func waiting(_ queues: [String], on connection: AMQPConnection) async throws -> UInt32 {
        var total: UInt32 = 0
        for queue in queues { total += try await connection.inspectQueue(queue).messageCount }
        return total
    }

    @Test("One queue → 4 partitions → 1 queue: waiting messages move, each dossier's into one partition, none doubled")
    func layoutChanges() async throws {
        let broker = try TestBroker.fromEnvironment()
        let vhost = try await CoreTopologyTests.freshVhost(broker)
        let connection = try await AMQPConnection.connect(url: broker.url(user: "guest", password: "guest", vhost: vhost))
        let types = MessageCatalogue.all.map { $0.messageType }
        let single = CoreTopology(adapters: ["portal"], messageTypes: types)
        let partitioned = CoreTopology(adapters: ["portal"], messageTypes: types, partitions: 4)
        try await single.declare(on: connection)
        for index in 0..<40 {
            try await connection.publish(
                message("D\(index % 10)"), exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        }
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 40)

        try await partitioned.declare(on: connection)
        await #expect(throws: AMQPError.self) { _ = try await connection.inspectQueue(CoreTopology.coreQueue) }
        #expect(try await waiting(partitioned.coreQueues, on: connection) == 40)
        // New messages reach the partitions only; a dossier's messages all wait in one partition.
        try await connection.publish(message("D0"), exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        #expect(try await waiting(partitioned.coreQueues, on: connection) == 41)
        var holding: [Int] = []
        for queue in partitioned.coreQueues where try await connection.inspectQueue(queue).messageCount > 0 {
            holding.append(Int(try await connection.inspectQueue(queue).messageCount))
        }
        #expect(holding.count > 1, "the dossiers spread over the partitions: \(holding)")
        #expect(holding.allSatisfy { ($0 - 1) % 4 == 0 || $0 % 4 == 0 }, "each dossier's 4 (or 5) messages in one partition: \(holding)")

        // Declared again with partitions: nothing moves, nothing doubles.
        try await partitioned.declare(on: connection)
        #expect(try await waiting(partitioned.coreQueues, on: connection) == 41)

        try await single.declare(on: connection)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 41)
        for queue in partitioned.coreQueues {
            await #expect(throws: AMQPError.self) { _ = try await connection.inspectQueue(queue) }
        }
        await #expect(throws: AMQPError.self) { try await connection.inspectExchange(CoreTopology.partitionExchange) }
        try await connection.publish(message("D3"), exchange: CoreTopology.ingressExchange, routingKey: type, mandatory: true)
        #expect(try await connection.inspectQueue(CoreTopology.coreQueue).messageCount == 42)
        await connection.close()
        try await broker.rabbitmqctl("delete_vhost", vhost)
    }
}
