import AMQP
import AMQPTesting
import Foundation
import Testing

@Suite("TLS")
struct TLSTests {
    func tlsSetup() throws -> (TestBroker, String, String) {
        let broker = try TestBroker.fromEnvironment()
        guard let url = broker.amqpsURL, let certificates = broker.tlsDirectory else {
            throw TestBroker.Unavailable(
                description: "the test broker has no TLS listener: start it with scripts/broker start --tls")
        }
        return (broker, url, certificates)
    }

    @Test("Connects to localhost with a verified certificate and carries messages")
    func verifiedConnection() async throws {
        let (_, url, certificates) = try tlsSetup()
        let connection = try await AMQPConnection.connect(url: "\(url)?cacertfile=\(certificates)/ca.pem")
        let queue = TestBroker.uniqueName("tls")
        try await connection.declare(AMQPQueue(queue, exclusive: true))
        try await connection.publish(AMQPMessage("over TLS"), exchange: "", routingKey: queue)
        let consumer = try await connection.consume(queue: queue)
        for try await delivery in consumer {
            #expect(delivery.body == Array("over TLS".utf8))
            delivery.ack()
            break
        }
        await connection.close()
    }

    @Test("Presents a client certificate when given one")
    func clientCertificate() async throws {
        let (_, url, certificates) = try tlsSetup()
        let connection = try await AMQPConnection.connect(
            url: "\(url)?cacertfile=\(certificates)/ca.pem&certfile=\(certificates)/client.pem&keyfile=\(certificates)/client.key")
        try await connection.declare(AMQPQueue(TestBroker.uniqueName("tls-client"), exclusive: true))
        await connection.close()
    }

    @Test("Refuses a server certificate from another CA, saying so")
    func foreignCertificateAuthority() async throws {
        let (_, url, certificates) = try tlsSetup()
        var configuration = try AMQPConfiguration(url: "\(url)?cacertfile=\(certificates)/other-ca.pem")
        configuration.recovery.enabled = false
        let error = await expectAMQPError(.tlsVerificationFailed) {
            _ = try await AMQPConnection.connect(configuration)
        }
        #expect(error?.message.contains("certificate") == true)
    }

    @Test("Refuses a certificate that does not name the host connected to")
    func wrongHostName() async throws {
        let (_, url, certificates) = try tlsSetup()
        let byAddress = url.replacingOccurrences(of: "@localhost:", with: "@127.0.0.1:")
        let error = await expectAMQPError(.tlsVerificationFailed) {
            _ = try await AMQPConnection.connect(url: "\(byAddress)?cacertfile=\(certificates)/ca.pem")
        }
        #expect(error?.message.contains("certificate") == true)
    }
}
