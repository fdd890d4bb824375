import AMQP
import Foundation
import GovBus
import GovBusConfiguration
import GovBusContracts
import GovBusStore
import Logging
import Metrics
import Synchronization
import UnixSignals

/// A running core takes new routes, keys and procedures without a restart: on SIGHUP it reads
/// routes.yaml and procedures.yaml again, checks both whole (a bad file is named with its line,
/// and the version in force stays), declares the inboxes of adapters that are new, and puts the
/// new version in force at a batch boundary (`CoreRouter.apply`), recording the change and its
/// diff in the audit log.
///
/// The cores sharing a store run one version: each version's digest is in the store. A core that
/// sees a newer version there (another core was signalled) reads its own files again and takes
/// them when they are that version; when its files differ, it says so and keeps its own.
final class ConfigurationReload: Sendable {
    let configuration: CoreConfiguration
    let catalog: SchemaCatalog
    let coreUser: String
    let nodes: Int
    let environment: [String: String]
    let store: DossierStore
    let logger: Logger
    /// The digest of the files in force, and a newer version found in the store that this core's
    /// files are not (said once).
    private let state = Mutex<(inForce: String?, refused: Int64?)>((nil, nil))
    private let versionFigure: Gauge

    static let followInterval = Duration.seconds(2)

    init(
        configuration: CoreConfiguration, catalog: SchemaCatalog, coreUser: String, nodes: Int,
        environment: [String: String], store: DossierStore, metrics: any MetricsFactory, logger: Logger
    ) {
        self.configuration = configuration
        self.catalog = catalog
        self.coreUser = coreUser
        self.nodes = nodes
        self.environment = environment
        self.store = store
        self.logger = logger
        versionFigure = Gauge(label: "govbus_core_configuration_version", factory: metrics)
    }

    func load() throws -> ConfigurationFiles {
        try ConfigurationFiles(configuration, knownTypes: Set(catalog.messageTypes), environment: environment)
    }

    /// Reloads at each SIGHUP, and follows the version the store says, until cancelled.
    /// `startedWith` is the digest of the files the core was started with.
    func run(router: CoreRouter, processManager: ProcessManager, connection: AMQPConnection, startedWith digest: String) async {
        // Trapped before anything else: a SIGHUP while the core records its version is not lost.
        let hangUps = await UnixSignalsSequence(trapping: .sighup)
        started(with: digest)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangUps {
                    await self.reload(
                        router: router, processManager: processManager, connection: connection, by: "SIGHUP", recordsChange: true)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.followInterval)
                    await self.follow(router: router, processManager: processManager, connection: connection)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// The files this core started with: the first version when the store has none; said when the
    /// store's version is another (this core then follows it, when its files are updated).
    private func started(with digest: String) {
        state.withLock { $0.inForce = digest }
        do {
            let last = try store.startingConfiguration(digest: digest)
            guard last.digest == digest else {
                logger.warning(
                    "this core's routes and procedures are not the version the store says the cores run",
                    metadata: ["version": "\(last.version)", "digest": "\(last.digest.prefix(12))", "files": "\(digest.prefix(12))"])
                return
            }
            versionFigure.record(last.version)
            logger.info("configuration version in force", metadata: ["version": "\(last.version)", "digest": "\(digest.prefix(12))"])
        } catch {
            logger.error("cannot record the configuration's version", metadata: ["error": "\(error)"])
        }
    }

    /// Another core put a newer version in force: take it, when this core's files are that version.
    private func follow(router: CoreRouter, processManager: ProcessManager, connection: AMQPConnection) async {
        guard let last = try? store.configurationVersion() else { return }
        let (inForce, refused) = state.withLock { ($0.inForce, $0.refused) }
        guard last.digest != inForce, refused != last.version else { return }
        guard let files = try? load(), files.digest == last.digest else {
            state.withLock { $0.refused = last.version }
            logger.error(
                "the cores run a version this core's files are not: it keeps its own until its files are updated",
                metadata: ["version": "\(last.version)", "digest": "\(last.digest.prefix(12))"])
            return
        }
        // The core that was signalled recorded the change in the audit log; this one only follows,
        // with the files it just checked.
        await reload(
            router: router, processManager: processManager, connection: connection, by: "version \(last.version)",
            recordsChange: false, files: files)
    }

    /// Returns whether the new version is in force.
    @discardableResult
    func reload(
        router: CoreRouter, processManager: ProcessManager, connection: AMQPConnection, by who: String, recordsChange: Bool,
        files loaded: ConfigurationFiles? = nil
    ) async -> Bool {
        let started = ContinuousClock.now
        do {
            let files = try loaded ?? load()
            let (routes, procedures, digest) = (files.routes, files.procedures, files.digest)
            let diff =
                ConfigurationDiff(routes: router.checks.routes, routes)
                + ConfigurationDiff(communes: router.checks.communes, files.communes)
                + ConfigurationDiff(procedures: processManager.procedures, procedures.procedures)
            // The inboxes of new adapters first: nothing may be routed to a queue not there yet.
            try await CoreTopology(
                adapters: Array(routes.adapters.keys), messageTypes: catalog.messageTypes, partitions: configuration.partitions,
                inboxPartitions: routes.adapters.mapValues(\.inboxPartitions), replicas: CoreTopology.replicas(forNodes: nodes)
            ).declare(on: connection)
            let checks = try IngressChecks(routes: routes, communes: files.communes, catalog: catalog, coreUser: coreUser)
            processManager.apply(procedures)
            router.apply(checks)
            state.withLock { $0 = (digest, nil) }
            do {
                let version = try store.recordConfiguration(digest: digest, by: who)
                versionFigure.record(version)
                if recordsChange { try router.recordConfigurationChange(diff, digest: digest, by: who) }
            } catch {
                logger.error("configuration in force, but not recorded", metadata: ["error": "\(error)"])
            }
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "by": "\(who)", "digest": "\(digest.prefix(12))",
                    "changes": "\(diff.isEmpty ? "none" : diff.changes.joined(separator: "; "))",
                    "took": "\(ContinuousClock.now - started)",
                ])
            return true
        } catch {
            logger.error("configuration not reloaded; the version in force stays", metadata: ["error": "\(error)"])
            return false
        }
    }
}
