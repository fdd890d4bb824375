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

    @Test("A cluster's nodes in one URL: the first is the host, the others follow in order")
    func nodeListInOneURL() throws {
        let configuration = try AMQPConfiguration(url: "amqp://core:s3cret@h1:5673,h2,h3:5675/govbus?heartbeat=5")
        #expect(configuration.nodes.map(\.description) == ["h1:5673", "h2:5672", "h3:5675"])
        #expect(configuration.user == "core")
        #expect(configuration.password == "s3cret")
        #expect(configuration.vhost == "govbus")
        #expect(configuration.heartbeat == .seconds(5))
        let tls = try AMQPConfiguration(url: "amqps://localhost:5671,localhost:5681/govbus?verify=verify_none")
        #expect(tls.nodes.map(\.port) == [5671, 5681])
        #expect(tls.tls?.verifyPeer == false)
    }

    @Test("A cluster's nodes as several URLs, which must agree on user, vhost and TLS")
    func nodeListAsURLs() throws {
        let configuration = try AMQPConfiguration(
            url: "amqp://core:pw@127.0.0.1:5672/govbus,amqp://core:pw@127.0.0.1:5673/govbus,amqp://core:pw@127.0.0.1:5674/govbus")
        #expect(configuration.nodes.map(\.port) == [5672, 5673, 5674])
        #expect(configuration.vhost == "govbus")
        #expect {
            try AMQPConfiguration(url: "amqp://core:topsecret@a/govbus,amqp://other:topsecret@b/govbus")
        } throws: { error in
            let description = "\(error)"
            return description.contains("share user") && !description.contains("topsecret")
        }
        #expect {
            try AMQPConfiguration(url: "amqp://core:topsecret@a,b:notaport/govbus")
        } throws: { error in
            let description = "\(error)"
            return description.contains("b:notaport") && !description.contains("topsecret")
        }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://core:pw@a,,b/govbus") }
    }
}
