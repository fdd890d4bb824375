import AMQP
import Foundation
import GovBusStore
import GovBus
import GovBusTelemetry
public import Logging
import Prometheus
public import ServiceLifecycle
import Synchronization

/// `govbus core` as a service: declares the topology, then routes and drives dossiers until it is
/// told to stop (SIGTERM, SIGINT), and then stops taking messages, lets the one in hand finish and
/// closes the connection within the drain timeout. Serves `/metrics` and `/health` meanwhile.
public struct CoreService: Service {
    public let configuration: CoreConfiguration
    private let logger: Logger
    private let checks: IngressChecks
    private let processManager: ProcessManager
    private let topology: CoreTopology
    private let registry = PrometheusCollectorRegistry()
    private let catalog: SchemaCatalog
    private let store: DossierStore
    private let environment: [String: String]
    /// The digest of the files the core started with: its first configuration version.
    private let startingDigest: String

    /// Loads every file, so that a bad one stops the core before it connects. `environment`
    /// says whether this is sandbox mode (`SandboxKeyCheck`): without it, a routes file that
    /// trusts a public sandbox key stops the core too.
    public init(configuration: CoreConfiguration, logger: Logger, environment: [String: String] = [:]) throws {
        self.configuration = configuration
        self.logger = logger
        let catalog = try SchemaCatalog(folder: configuration.schemas)
        let files = try ConfigurationFiles(configuration, knownTypes: Set(catalog.messageTypes), environment: environment)
        let (routes, procedures) = (files.routes, files.procedures)
        startingDigest = files.digest
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        let amqp = try AMQPConfiguration(url: configuration.amqpURL)
        checks = try IngressChecks(routes: routes, communes: files.communes, catalog: catalog, coreUser: amqp.user)
        store = try DossierStore(configuration.store)
        processManager = ProcessManager(store: store, procedures: procedures)
        self.catalog = catalog
        self.environment = environment
        topology = CoreTopology(
            adapters: Array(routes.adapters.keys), messageTypes: catalog.messageTypes, partitions: configuration.partitions,
            inboxPartitions: routes.adapters.mapValues(\.inboxPartitions),
            replicas: CoreTopology.replicas(forNodes: amqp.nodes.count))
    }

    public func run() async throws {
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "govbus core"
        let connection = try await AMQPConnection.connect(amqp, logger: logger)
        try await topology.declare(on: connection)
        let audit = try AuditLog(configuration.store)
        try audit.removeBodies(recordedBefore: Date().addingTimeInterval(-configuration.auditBodyRetention.timeInterval))
        var prometheus = PrometheusMetricsFactory(registry: registry)
        prometheus.defaultDurationHistogramBuckets = Self.latencyBuckets
        prometheus.valueHistogramBuckets["govbus_core_dossier_completion_seconds"] = Self.completionBuckets
        let metrics = CoreMetrics(factory: prometheus)
        metrics.startAtZero()
        let reload = ConfigurationReload(
            configuration: configuration, catalog: catalog, coreUser: amqp.user, nodes: amqp.nodes.count,
            environment: environment, store: store, metrics: prometheus, logger: logger)
        let router = try CoreRouter(
            checks: checks, audit: audit, ledger: try MessageLedger(configuration.store),
            processManager: processManager, connection: connection,
            signer: try configuration.signingKey.map { try MessageSigner(keyID: $0.id, base64Seed: $0.seed) },
            crashWitnessPath: configuration.dataDirectory.appendingPathComponent("in-hand").path,
            faults: .fromEnvironment(ProcessInfo.processInfo.environment), metrics: metrics, logger: logger)
        let (own, standby) = partitionsByTurn()
        logger.info(
            "core running",
            metadata: [
                "adapters": "\(topology.adapters.joined(separator: ","))", "store": "\(configuration.store)",
                "partitions": "\(own.joined(separator: ","))",
            ])
        let health = ConnectionHealth()
        let verifier = AuditVerifier(
            audit: audit, metrics: metrics, interval: configuration.auditCheckpointInterval, logger: logger)
        let checkpointer = try makeCheckpointer(audit: audit, connection: connection, coreUser: amqp.user)

        // On SIGTERM the tasks are cancelled: the consumer stops, and a message in hand finishes
        // (publishing does not stop halfway for a cancellation).
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await router.run(queues: own, standby: standby, standbyDelay: configuration.standbyDelay) }
                    group.addTask { await router.runTimers() }
                    group.addTask { await health.follow(connection.events) }
                    group.addTask { await processManager.reportStates(to: metrics, logger: logger) }
                    if let checkpointer { group.addTask { await checkpointer.run() } }
                    group.addTask { await verifier.run() }
                    group.addTask { await reload.run(
                            router: router, processManager: processManager, connection: connection,
                            startedWith: startingDigest) }
                    if let address = configuration.telemetry {
                        let registry = registry
                        let token = configuration.operatorToken
                        let app = TelemetryServer.application(
                            service: "core", host: address.host, port: address.port, registry: registry,
                            health: { health.report }, logger: logger
                        ) { routes in
                            if let token { OperatorEndpoint.addRoutes(to: routes, token: token, core: router) }
                        }
                        group.addTask { try await app.run() }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
            logger.info("stopping")
        }
        // The last checkpoint: the last record is in, the connection still up.
        await checkpointer?.checkpointIfMoved()
        // Draining: whatever the router still holds unacked goes back to the queue when the
        // connection closes; the one in hand has finished above.
        let drain = configuration.drainTimeout
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await connection.close() }
            group.addTask { try? await Task.sleep(for: drain) }
            await group.next()
            group.cancelAll()
        }
        logger.info("core stopped")
    }

    /// The partitions this core takes first (its share by `instance`), and those it stands by for.
    private func partitionsByTurn() -> (own: [String], standby: [String]) {
        let (index, cores) = configuration.instance
        var own: [String] = []
        var standby: [String] = []
        for (number, queue) in topology.coreQueues.enumerated() {
            if number % cores == index { own.append(queue) } else { standby.append(queue) }
        }
        return (own, standby)
    }

    /// What signs the audit log's head every `auditCheckpointInterval`, appends it to the
    /// checkpoints file and publishes it to the queue `govbus.audit.checkpoints` (default
    /// exchange); nil without a signing key.
    private func makeCheckpointer(audit: AuditLog, connection: AMQPConnection, coreUser: String) throws -> AuditCheckpointer? {
        guard let key = configuration.signingKey else {
            logger.warning("no signingKey in the core's configuration: the audit log gets no signed checkpoints")
            return nil
        }
        return try AuditCheckpointer(
            audit: audit, signingKey: key, file: configuration.auditCheckpoints,
            interval: configuration.auditCheckpointInterval, logger: logger
        ) { checkpoint in
            let message = AMQPMessage(
                body: Array(try checkpoint.jsonLine()),
                properties: AMQPProperties(
                    contentType: "application/json", deliveryMode: .persistent, messageID: UUID().uuidString.lowercased(),
                    timestamp: Date(), type: AuditCheckpoint.messageType, userID: coreUser, appID: "govbus-core"))
            try await connection.publish(message, exchange: "", routingKey: AuditCheckpoint.queue, mandatory: true)
        }
    }

    /// A dossier's time from submission to completion: seconds in a demo, days under a legal deadline.
    static let completionBuckets: [Double] = [1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 15 * 86400, 30 * 86400]

    /// Routing takes milliseconds; a bucket past a few seconds means something waits.
    static let latencyBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]
}
