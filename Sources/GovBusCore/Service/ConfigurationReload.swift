import AMQP
import Crypto
import Foundation
import GovBus
import GovBusConfiguration
import GovBusContracts
import Logging
import UnixSignals

/// A running core takes new routes, keys and procedures without a restart: on SIGHUP it reads
/// routes.yaml and procedures.yaml again, checks both whole (a bad file is named with its line,
/// and the version in force stays), declares the inboxes of adapters that are new, and puts the
/// new version in force at a batch boundary (`CoreRouter.apply`), recording the change and its
/// diff in the audit log.
struct ConfigurationReload: Sendable {
    let configuration: CoreConfiguration
    let catalog: SchemaCatalog
    let coreUser: String
    let nodes: Int
    let environment: [String: String]
    let logger: Logger

    /// Both files, checked; nothing is in force until both are good.
    func load() throws -> (routes: RoutesFile, procedures: ProceduresFile, digest: String) {
        let routes = try RoutesFile(contentsOf: configuration.routes, knownTypes: Set(catalog.messageTypes))
        try SandboxKeyCheck.check(routes: routes, file: configuration.routes, environment: environment)
        let procedures = try ProceduresFile(contentsOf: configuration.procedures)
        var hash = SHA256()
        for file in [configuration.routes, configuration.procedures] { hash.update(data: try Data(contentsOf: file)) }
        return (routes, procedures, hash.finalize().lowercaseHex)
    }

    /// Waits for SIGHUP, and reloads at each.
    func run(router: CoreRouter, processManager: ProcessManager, connection: AMQPConnection) async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            await reload(router: router, processManager: processManager, connection: connection, by: "SIGHUP")
        }
    }

    /// Returns whether the new version is in force.
    @discardableResult
    func reload(router: CoreRouter, processManager: ProcessManager, connection: AMQPConnection, by who: String) async -> Bool {
        let started = ContinuousClock.now
        do {
            let (routes, procedures, digest) = try load()
            let diff =
                ConfigurationDiff(routes: router.checks.routes, routes)
                + ConfigurationDiff(procedures: processManager.procedures, procedures.procedures)
            // The inboxes of new adapters first: nothing may be routed to a queue not there yet.
            try await CoreTopology(
                adapters: Array(routes.adapters.keys), messageTypes: catalog.messageTypes, partitions: configuration.partitions,
                inboxPartitions: routes.adapters.mapValues(\.inboxPartitions), replicas: CoreTopology.replicas(forNodes: nodes)
            ).declare(on: connection)
            let checks = try IngressChecks(routes: routes, catalog: catalog, coreUser: coreUser)
            processManager.apply(procedures)
            router.apply(checks)
            do {
                try router.recordConfigurationChange(diff, digest: digest, by: who)
            } catch {
                logger.error("configuration in force, but not recorded in the audit log", metadata: ["error": "\(error)"])
            }
            logger.notice(
                "configuration reloaded",
                metadata: [
                    "digest": "\(digest.prefix(12))", "changes": "\(diff.isEmpty ? "none" : diff.changes.joined(separator: "; "))",
                    "took": "\(ContinuousClock.now - started)",
                ])
            return true
        } catch {
            logger.error("configuration not reloaded; the version in force stays", metadata: ["error": "\(error)"])
            return false
        }
    }
}
