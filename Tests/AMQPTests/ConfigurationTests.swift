import AMQP
import Testing

@Suite("Configuration from URLs")
struct ConfigurationTests {
    @Test("A plain URL with credentials, port and a percent-encoded vhost")
    func plainURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://core:p%40ss@broker.local:5673/govbus%2Fprod?heartbeat=30")
        #expect(configuration.host == "broker.local")
        #expect(configuration.port == 5673)
        #expect(configuration.user == "core")
        #expect(configuration.password == "p@ss")
        #expect(configuration.vhost == "govbus/prod")
        #expect(configuration.heartbeat == .seconds(30))
        #expect(configuration.tls == nil)
    }

    @Test("Defaults: guest, port 5672, the vhost /")
    func defaults() throws {
        let configuration = try AMQPConfiguration(url: "amqp://localhost")
        #expect(configuration.port == 5672)
        #expect(configuration.user == "guest")
        #expect(configuration.vhost == "/")
        #expect(try AMQPConfiguration(url: "amqp://localhost/").vhost == "/")
        #expect(try AMQPConfiguration(url: "amqp://localhost/%2F").vhost == "/")
    }

    @Test("amqps: port 5671 and TLS files from the query")
    func tlsURL() throws {
        let configuration = try AMQPConfiguration(
            url: "amqps://localhost/govbus?cacertfile=/etc/ca.pem&certfile=/etc/c.pem&keyfile=/etc/c.key&verify=verify_none")
        #expect(configuration.port == 5671)
        #expect(configuration.tls?.caCertificateFile == "/etc/ca.pem")
        #expect(configuration.tls?.clientCertificateFile == "/etc/c.pem")
        #expect(configuration.tls?.clientKeyFile == "/etc/c.key")
        #expect(configuration.tls?.verifyPeer == false)
        #expect(configuration.tls?.verifyHostname == true)
    }

    @Test("Errors name the problem and never the password")
    func errors() {
        #expect {
            try AMQPConfiguration(url: "amqp://user:secret@host/?cacertfile=/x.pem")
        } throws: { error in
            let description = "\(error)"
            return description.contains("amqps") && !description.contains("secret")
        }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://host/?frobnicate=1") }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "redis://host/") }
    }
}
