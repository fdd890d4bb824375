public import AMQP
import GovBusStore
import Foundation
import GovBus
import GovBusCore
public import Hummingbird
public import Logging
import NIOCore
import Prometheus

/// `govbus console`: the operations console. Serves the pages and their JSON API, and keeps the
/// dead letters: it takes them off `govbus.dead-letters` into its archive as they arrive.
public struct ConsoleServer: Sendable {
    public let configuration: ConsoleConfiguration
    let api: ConsoleAPI
    let archive: DeadLetterArchive
    let registry = PrometheusCollectorRegistry()

    /// `replay` publishes a replayed letter to the core (through `govbus.ingress`, as the core's
    /// user; the second argument names where it was going, for the record).
    public init(
        configuration: ConsoleConfiguration, adapters: [String], vhost: String,
        replay: @escaping @Sendable (AMQPMessage, _ queue: String) async throws -> Void, logger: Logger
    ) throws {
        self.configuration = configuration
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        archive = try DeadLetterArchive(configuration.archive)
        let sessions = Sessions()
        let core = try CoreDataReader(configuration.store)
        api = ConsoleAPI(
            configuration: configuration, sessions: sessions, logins: ConsoleLogin(operators: configuration.operators),
            core: core,
            archive: archive,
            queues: QueueFigures(managementURL: configuration.managementURL, vhost: vhost, amqpURL: configuration.amqpURL),
            audit: try AuditLog(configuration.store), adapters: adapters,
            replay: replay,
            signer: try configuration.signingKey.map { try MessageSigner(keyID: $0.id, base64Seed: $0.seed) },
            coreUser: try AMQPConfiguration(url: configuration.amqpURL).user, logger: logger,
            procedures: try configuration.procedures.map { try ProceduresFile(contentsOf: $0).procedures } ?? [:],
            communes: try configuration.communes.map { try CommuneChanges(contentsOf: $0) } ?? .none,
            liveEvents: LiveEvents(core: core, archive: archive, sessions: sessions))
    }

    public func router() -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: AccessMiddleware(sessions: api.sessions, origin: configuration.publicOrigin))
        router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"up"}"#))) }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        api.addRoutes(to: router)
        ConsolePages.addRoutes(to: router)
        return router
    }

    public func application(logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.listen.host, port: configuration.listen.port), serverName: "govbus-console"),
            logger: logger)
    }

    /// Takes the dead letters off their queue into the archive, until cancelled.
    public func archiveDeadLetters(from connection: AMQPConnection, logger: Logger) async throws {
        let consumer = try await connection.consume(queue: CoreTopology.deadLetterQueue, prefetch: 32)
        for try await delivery in consumer {
            do {
                try archive.store(properties: delivery.properties, body: delivery.body)
                delivery.ack()
            } catch {
                logger.error("cannot archive a dead letter; it stays in the queue", metadata: ["error": "\(error)"])
                delivery.nack(requeue: true)
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// `scrypt$...` for a password: what the configuration's `passwordHash` holds.
    public static func hashPassword(_ password: String) throws -> String {
        try PasswordHash.make(password)
    }
}
