import AMQP
import AMQPTesting
import Foundation
import Glibc
import Testing

@Suite("Connection errors are clear and quick")
struct ConnectionErrorTests {
    static let connectTimeout = Duration.seconds(2)
    /// Time for the machine to be slow: the other tests run at the same time on two cores. Still
    /// well below the default connect timeout (10 s), so the configured one is what applies.
    static let slack = Duration.seconds(7)

    func configuration(_ url: String) throws -> AMQPConfiguration {
        var configuration = try AMQPConfiguration(url: url)
        configuration.connectTimeout = Self.connectTimeout
        configuration.recovery.enabled = false
        return configuration
    }

    /// Connecting must fail with `kind` well within the connect timeout.
    func expectConnectFailure(_ url: String, _ kind: AMQPError.Kind) async throws -> AMQPError? {
        let configuration = try configuration(url)
        let started = ContinuousClock.now
        let error = await expectAMQPError(kind) {
            let connection = try await withTimeLimit(.seconds(10), "connect") {
                try await AMQPConnection.connect(configuration)
            }
            await connection.close()
        }
        let elapsed = ContinuousClock.now - started
        print("connect failure \(kind) after \(elapsed)")
        #expect(elapsed < Self.connectTimeout + Self.slack)
        return error
    }

    @Test("A wrong password says so")
    func wrongPassword() async throws {
        let broker = try TestBroker.fromEnvironment()
        let error = try await expectConnectFailure(broker.url(user: "guest", password: "not-the-password"), .authenticationFailed)
        #expect(error?.message.contains("guest") == true)
        #expect(error?.message.contains("password") == true)
    }

    @Test("An unknown vhost says so")
    func unknownVhost() async throws {
        let broker = try TestBroker.fromEnvironment()
        let error = try await expectConnectFailure(
            broker.url(user: "guest", password: "guest", vhost: "no-such-vhost"), .vhostNotFound)
        #expect(error?.message.contains("no-such-vhost") == true)
    }

    @Test("A user without access to the vhost is refused with the broker's text")
    func accessRefusedOnVhost() async throws {
        let broker = try TestBroker.fromEnvironment()
        let user = TestBroker.uniqueName("no-access")
        try await broker.rabbitmqctl("add_user", user, "secret")
        let error = try await expectConnectFailure(broker.url(user: user, password: "secret"), .accessRefused)
        #expect(error?.message.contains("refused") == true)
        try await broker.rabbitmqctl("delete_user", user)
    }

    @Test("An operation without permission closes only its channel, with the broker's text")
    func accessRefusedOnOperation() async throws {
        let broker = try TestBroker.fromEnvironment()
        let user = TestBroker.uniqueName("read-only")
        try await broker.rabbitmqctl("add_user", user, "secret")
        try await broker.rabbitmqctl("set_permissions", "-p", "/", user, "^$", ".*", ".*")
        let connection = try await AMQPConnection.connect(configuration(broker.url(user: user, password: "secret")))
        let error = await expectAMQPError(.accessRefused) {
            try await connection.declare(AMQPQueue(TestBroker.uniqueName("forbidden")))
        }
        #expect(error?.replyCode == 403)
        #expect(error?.message.contains("ACCESS_REFUSED") == true)
        // The connection goes on: publishing, which it may, works.
        try await connection.publish(AMQPMessage("still connected"), exchange: "amq.fanout", routingKey: "")
        await connection.close()
        try await broker.rabbitmqctl("delete_user", user)
    }

    @Test("A port where nothing listens fails at once")
    func nothingListening() async throws {
        let port = try Self.unusedPort()
        let error = try await expectConnectFailure("amqp://guest:guest@127.0.0.1:\(port)/", .hostUnreachable)
        #expect(error?.message.contains("\(port)") == true)
    }

    @Test("A node list connects to the first node that answers: a dead node and a silent one are passed over")
    func nodeListSkipsDeadNodes() async throws {
        let broker = try TestBroker.fromEnvironment()
        let live = URLComponents(string: broker.amqpURL)!
        let dead = try Self.unusedPort()
        let (descriptor, silent) = try Self.silentListener()
        defer { close(descriptor) }
        let configuration = try configuration(
            "amqp://guest:guest@127.0.0.1:\(dead),127.0.0.1:\(silent),\(live.host!):\(live.port!)/")
        let connection = try await withTimeLimit(.seconds(20), "connect through the node list") {
            try await AMQPConnection.connect(configuration)
        }
        let queue = try await connection.declare(AMQPQueue("", exclusive: true, autoDelete: true))
        #expect(queue.name.hasPrefix("amq.gen-"))
        await connection.close()
        // None answers: the error is the last node's, and says so quickly.
        _ = try await expectConnectFailure("amqp://guest:guest@127.0.0.1:\(dead),127.0.0.1:\(try Self.unusedPort())/", .hostUnreachable)
    }

    @Test("A server that accepts but never speaks AMQP times out within the connect timeout")
    func silentServer() async throws {
        let (descriptor, port) = try Self.silentListener()
        defer { close(descriptor) }
        _ = try await expectConnectFailure("amqp://guest:guest@127.0.0.1:\(port)/", .connectTimeout)
    }

    @Test("A bad URL is refused before any connection")
    func badURL() throws {
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "http://localhost/") }
        #expect(throws: AMQPError.self) { try AMQPConfiguration(url: "amqp://localhost/?heartbeat=soon") }
    }

    /// A port that was free a moment ago.
    static func unusedPort() throws -> Int {
        let (descriptor, port) = try silentListener()
        close(descriptor)
        return port
    }

    /// A TCP socket listening on 127.0.0.1 that never accepts: the kernel completes the handshake
    /// and nothing more happens.
    static func silentListener() throws -> (Int32, Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            throw TestBroker.Unavailable(description: "cannot listen on 127.0.0.1")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }
}
