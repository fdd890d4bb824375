import AMQP
import AMQPTesting
import Foundation
import GovBusContracts
import Testing

@testable import GovBusCore

/// Provisioning through the management API of the test broker, then the broker enforcing it.
@Suite("Provisioning the broker")
struct ProvisioningTests {
    static func managementURL() throws -> URL {
        let broker = try TestBroker.fromEnvironment()
        return try #require(URL(string: broker.managementURL))
    }

    @Test("Vhost, core user and adapter users with their permissions; running it twice changes nothing")
    func provision() async throws {
        let broker = try TestBroker.fromEnvironment()
        let provisioner = try BrokerProvisioner(managementURL: Self.managementURL())
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let vhost = "govbus-\(suffix)"
        let core = "core-\(suffix)"
        let portal = "portal-\(suffix)"
        let registry = "registry-\(suffix)"
        let adapters = [portal: "portal-secret", registry: "registry-secret"]
        try await provisioner.provision(vhost: vhost, coreUser: core, corePassword: "core-secret", adapters: adapters)
        try await provisioner.provision(vhost: vhost, coreUser: core, corePassword: "core-secret", adapters: adapters)
        #expect(try await provisioner.userExists(portal))
        #expect(try await !provisioner.userExists("nobody-\(suffix)"))

        // The core's user declares the topology.
        let coreConnection = try await AMQPConnection.connect(url: broker.url(user: core, password: "core-secret", vhost: vhost))
        try await CoreTopology(adapters: [portal, registry], messageTypes: MessageCatalogue.all.map { $0.messageType })
            .declare(on: coreConnection)
        // An adapter writes on the ingress and reads its inbox, and nothing else.
        var configuration = try AMQPConfiguration(url: broker.url(user: portal, password: "portal-secret", vhost: vhost))
        configuration.recovery.enabled = false
        let adapter = try await AMQPConnection.connect(configuration)
        try await adapter.publish(
            AMQPMessage("{}", properties: AMQPProperties(userID: portal)), exchange: CoreTopology.ingressExchange,
            routingKey: "portal.dossier.submitted.v1", mandatory: true)
        let inbox = try await adapter.consume(queue: CoreTopology.inbox(of: portal))
        await inbox.cancel()
        let readOther = await #expect(throws: AMQPError.self) {
            _ = try await adapter.consume(queue: CoreTopology.inbox(of: registry))
        }
        #expect(readOther?.kind == .accessRefused)
        let writeOther = await #expect(throws: AMQPError.self) {
            try await adapter.publish(AMQPMessage("{}"), exchange: CoreTopology.deliverExchange, routingKey: "\(registry).x")
        }
        #expect(writeOther?.kind == .accessRefused)
        let configure = await #expect(throws: AMQPError.self) {
            try await adapter.declare(AMQPQueue("mine-\(suffix)"))
        }
        #expect(configure?.kind == .accessRefused)

        await adapter.close()
        await coreConnection.close()
        try await broker.rabbitmqctl("delete_vhost", vhost)
        for user in [core, portal, registry] { try await broker.rabbitmqctl("delete_user", user) }
    }

    @Test("Wrong management credentials say so")
    func wrongCredentials() async throws {
        var components = try #require(URLComponents(url: Self.managementURL(), resolvingAgainstBaseURL: false))
        components.password = "wrong"
        let provisioner = try BrokerProvisioner(managementURL: try #require(components.url))
        await #expect {
            try await provisioner.provision(vhost: "never", coreUser: "never", corePassword: "x", adapters: [:])
        } throws: { error in
            "\(error)".contains("401")
        }
    }
}
