import AMQP
import GovBusProcesses
import Crypto
import Foundation
import GovBus
import GovBusCore
import Logging

/// The bus `govbus bench core` measures: a vhost of its own with a core user, a sender adapter
/// that may publish `document.issue-requested.v1` and a receiver adapter that gets it, and the
/// core as a child process with every check on.
struct BenchBus: Sendable {
    let amqpURL: String
    let vhost: String
    let coreUser: String
    let sender: String
    let receiver: String
    let password: String
    let folder: URL
    let provisioner: BrokerProvisioner
    let signer: MessageSigner
    /// One body per dossier of the bench's: with several partitions, its messages spread over them.
    let bodies: [(dossier: String, body: [UInt8])]
    var body: [UInt8] { bodies[0].body }

    /// Dossiers the messages take turns on.
    static let dossiers = 64

    static func provision(_ options: CoreBenchmark.Options, progress: (String) -> Void) async throws -> BenchBus {
        guard let management = URL(string: options.managementURL) else {
            throw CoreBenchmark.Failure(description: "bad management URL '\(options.managementURL)'")
        }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let password = UUID().uuidString
        let bus = BenchBus(
            amqpURL: options.amqpURL, vhost: "govbus-bench-\(suffix)", coreUser: "bench-core-\(suffix)",
            sender: "bench-sender-\(suffix)", receiver: "bench-receiver-\(suffix)", password: password,
            folder: FileManager.default.temporaryDirectory.appendingPathComponent("govbus-bench-core-\(suffix)"),
            provisioner: try BrokerProvisioner(managementURL: management),
            signer: MessageSigner(keyID: "bench-sender", privateKey: Curve25519.Signing.PrivateKey()), bodies: try (1...Self.dossiers).map { index in
                let dossier = String(format: "H01.04-251121-%04d", index)
                return (dossier, try Self.typicalBody(dossier: dossier))
            })
        try await bus.provisioner.provision(
            vhost: bus.vhost, coreUser: bus.coreUser, corePassword: password,
            adapters: [bus.sender: password, bus.receiver: password])
        progress("provisioned vhost \(bus.vhost)")
        return bus
    }

    /// Removes the vhost (with its queues), the users and the folder.
    func remove() async throws {
        try? FileManager.default.removeItem(at: folder)
        try await provisioner.remove(vhost: vhost, users: [coreUser, sender, receiver])
    }

    func url(user: String) throws -> String {
        guard var components = URLComponents(string: amqpURL) else {
            throw CoreBenchmark.Failure(description: "bad broker URL '\(amqpURL)'")
        }
        components.user = user
        components.password = password
        components.percentEncodedPath = "/" + (vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost)
        return components.string!
    }

    func connect(as user: String) async throws -> AMQPConnection {
        var configuration = try AMQPConfiguration(url: try url(user: user))
        configuration.connectionName = "govbus bench core (\(user))"
        return try await AMQPConnection.connect(configuration, logger: TransportBenchmark.quietLogger)
    }

    /// Writes the core's configuration, starts `cores` cores (with several, the core's queue in
    /// partitions and `store` shared) and waits until every core queue has its consumers.
    /// `wrapper`: a command the core runs under (valgrind), with `startupLimit` to be consuming.
    func startCores(
        _ cores: Int, store: String?, executable: String, schemas: String, procedures: String, wrapper: [String] = [],
        extraEnvironment: [String: String] = [:], startupLimit: Duration = .seconds(60), progress: (String) -> Void
    ) async throws -> [ChildProcess.Running] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = signer.publicKey.rawRepresentation.base64EncodedString()
        try """
        adapters:
          \(sender):
            keys: {bench-sender: \(key)}
            publishes: [\(CoreBenchmark.messageType)]
            receives: []
          \(receiver):
            keys: {bench-receiver: \(key)}
            publishes: []
            receives: [\(CoreBenchmark.messageType)]
        rules: []
        """.write(to: folder.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        try """
        amqpUrl: \(try url(user: coreUser))
        routes: routes.yaml
        procedures: \(procedures)
        schemas: \(schemas)
        data: data
        telemetry: off
        """.write(to: folder.appendingPathComponent("core.yaml"), atomically: true, encoding: .utf8)
        let partitions = cores > 1 ? 8 : 1
        var started: [ChildProcess.Running] = []
        for index in 0..<cores {
            // The environment overrides the configuration: say the same in both.
            var environment = [
                "GOVBUS_AMQP_URL": try url(user: coreUser),
                "GOVBUS_DATA_DIR": folder.appendingPathComponent(index == 0 ? "data" : "data-\(index)").path,
                "GOVBUS_TELEMETRY": "off", "GOVBUS_CORE_PARTITIONS": "\(partitions)", "GOVBUS_CORE_INSTANCE": "\(index)/\(cores)",
            ]
            environment["GOVBUS_STORE"] = store ?? folder.appendingPathComponent("data").path
            environment.merge(extraEnvironment) { $1 }
            let command = wrapper + [executable, "core", "--config", folder.appendingPathComponent("core.yaml").path]
            started.append(
                try ChildProcess.start(
                    command[0], Array(command.dropFirst()), environment: environment,
                    errors: folder.appendingPathComponent("core-\(index).log").path))
        }
        let queues = CoreTopology(adapters: [], messageTypes: [], partitions: partitions).coreQueues
        let connection = try await connect(as: coreUser)
        defer { Task { await connection.close() } }
        let deadline = ContinuousClock.now + startupLimit
        var lastError = "no consumer yet"
        while ContinuousClock.now < deadline {
            do {
                // A queue with a single active consumer counts the active one only: the standbys
                // register 2 s after their cores' own queues, so wait for them that long.
                var ready = true
                for queue in queues where try await connection.inspectQueue(queue).consumerCount < 1 { ready = false }
                if ready {
                    if cores > 1 { try await Task.sleep(for: .seconds(3)) }
                    progress("\(cores) core(s) (pid \(started.map { "\($0.pid)" }.joined(separator: ", "))) consume \(queues.count) queue(s)")
                    return started
                }
            } catch {
                lastError = "\(error)"
            }
            for core in started {
                if let exit = try await core.exitStatus(within: .milliseconds(100)) {
                    for other in started { other.stop() }
                    throw CoreBenchmark.Failure(description: "a core exited with status \(exit) before it consumed")
                }
            }
        }
        for core in started { core.stop() }
        throw CoreBenchmark.Failure(description: "the cores did not start consuming within \(startupLimit): \(lastError)")
    }

    /// Fresh message ids each run, so that the core's dedup does not drop any; signed before the
    /// clock starts, since signing is the sender's work.
    func signedMessages(count: Int) throws -> [AMQPMessage] {
        try (0..<count).map { index in
            let (dossier, body) = bodies[index % bodies.count]
            return try signer.sign(
                AMQPMessage(
                    body: body,
                    properties: AMQPProperties(
                        contentType: "application/json", deliveryMode: .persistent, correlationID: dossier,
                        messageID: UUID().uuidString.lowercased(), timestamp: Date(), type: CoreBenchmark.messageType,
                        userID: sender, appID: "govbus-bench")))
        }
    }

    func runCore(
        messages count: Int, options: CoreBenchmark.Options, rate: Double?, within limit: Duration = .seconds(60)
    ) async throws -> TransportBenchmark.Figures {
        let messages = try signedMessages(count: count)
        let publisher = try await connect(as: sender)
        let consumer = try await connect(as: receiver)
        defer {
            Task {
                await publisher.close()
                await consumer.close()
            }
        }
        return try await BenchEnds.run(
            messages, publishVia: publisher, exchange: CoreTopology.ingressExchange, routingKey: CoreBenchmark.messageType,
            consumeVia: consumer, queue: CoreTopology.inbox(of: receiver), window: options.window,
            prefetch: options.prefetch, rate: rate, within: limit)
    }

    func runBaseline(_ program: String, messages count: Int, options: CoreBenchmark.Options) async throws -> TransportBenchmark.Figures {
        // The broker takes user_id only from its own connection's user: the hop publishes as the core.
        let messages = try signedMessages(count: count).map { message in
            var copy = message
            copy.properties.userID = nil
            return copy
        }
        let connection = try await connect(as: coreUser)
        defer { Task { await connection.close() } }
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let (input, output) = ("bench.hop-in.\(tag)", "bench.hop-out.\(tag)")
        for queue in [input, output] { _ = try await connection.declare(AMQPQueue(queue, kind: .quorum)) }
        let hop = try ChildProcess.start(program, [try url(user: coreUser), input, output, "\(count)", "\(options.prefetch)"])
        defer { hop.stop() }
        let figures = try await BenchEnds.run(
            messages, publishVia: connection, exchange: "", routingKey: input, consumeVia: connection, queue: output,
            window: options.window, prefetch: options.prefetch, rate: nil)
        guard try await hop.exitStatus(within: .seconds(30)) == 0 else {
            throw CoreBenchmark.Failure(description: "the rabbitmq-c hop failed")
        }
        for queue in [input, output] { _ = try await connection.deleteQueue(queue) }
        return figures
    }

    /// A document request of about 1 KB (870 bytes): the example with the longest subject its
    /// schema allows in practice (500 characters at most).
    static func typicalBody(dossier: String) throws -> [UInt8] {
        let subject =
            "Cấp Giấy chứng nhận đăng ký hộ kinh doanh cho hộ kinh doanh Mai Anh, địa chỉ số 12 phố Đội Cấn, "
            + "phường Ba Đình, thành phố Hà Nội; ngành nghề kinh doanh: bán lẻ lương thực, thực phẩm, đồ uống "
            + "và sản phẩm thuốc lá, thuốc lào trong các cửa hàng chuyên doanh; vốn kinh doanh 300 triệu đồng; "
            + "số lao động: 4 người; chủ hộ kinh doanh: bà Nguyễn Thị Mai Anh, sinh ngày 12 tháng 3 năm 1985, "
            + "căn cước công dân số 001185012345 do Cục Cảnh sát quản lý hành chính về trật tự xã hội cấp"
        let body: [String: Any] = [
            "dossierId": dossier, "documentType": "certificate", "issuingOrganCode": "000.00.04.H01",
            "recipientOrganCode": "000.00.00.H01", "subject": subject,
            "signer": ["name": "Lê Văn Dũng", "position": "Phó Chủ tịch"], "requestedAt": "2025-11-21T09:21:05+07:00",
        ]
        return Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
    }
}
