import ArgumentParser
import Foundation
import GovBus
import GovBusConfiguration
import GovBusContracts
import GovBusCore
import GovBusStore

/// `govbus config apply`: a new version of the routes, procedures or communes, in force on every
/// core without a restart, under the operator's name.
struct ConfigApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Put new routes, procedures or communes files in force on the running cores, under your name.",
        discussion: """
            Each FILE is checked in full, with the files it does not replace, as the core would check \
            it; a bad one is named with its line and nothing changes. Then each replaces the file of \
            its kind that the core's configuration names, the new version is recorded in the cores' \
            store (its number and digest) with the change and your name in the audit log, and every \
            core on that store takes it within 2 s, at a batch boundary, when its own files are that \
            version. Prints the changes and the version. Exit status: 0 applied (or nothing to apply), \
            2 a file is not valid, 1 the store could not record it.
            """)

    @Option(help: "The core's configuration, whose files are replaced.") var config = "config/core.yaml"
    @Option(help: "Who applies the change, for the audit log.") var `operator`: String
    @Argument(help: "The new routes, procedures and communes files.") var files: [String]

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let core: CoreConfiguration
        let catalog: SchemaCatalog
        var proposed: CoreConfiguration
        let (current, next): (ConfigurationFiles, ConfigurationFiles)
        do {
            core = try CoreConfiguration(contentsOf: URL(fileURLWithPath: config), environment: environment)
            catalog = try SchemaCatalog(folder: core.schemas)
            proposed = core
            for file in files {
                let url = URL(fileURLWithPath: file)
                let top = try ConfigDiffCommand.topKeys(url)
                if top.contains("changes") {
                    proposed.communes = url
                } else if top.contains("procedures") {
                    proposed.procedures = url
                } else {
                    proposed.routes = url
                }
            }
            current = try ConfigurationFiles(core, knownTypes: Set(catalog.messageTypes), environment: environment)
            next = try ConfigurationFiles(proposed, knownTypes: Set(catalog.messageTypes), environment: environment)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        guard proposed.communes == nil || core.communes != nil else {
            printError("\(config) names no communes file: add `communes: communes.yaml` to it first")
            throw ExitCode(2)
        }
        let diff =
            ConfigurationDiff(routes: current.routes, next.routes) + ConfigurationDiff(communes: current.communes, next.communes)
            + ConfigurationDiff(procedures: current.procedures.procedures, next.procedures.procedures)
        do {
            let store = try DossierStore(core.store)
            // Against the store's version, not the files: a run stopped after the copy records it now.
            guard try store.configurationVersion()?.digest != next.digest else {
                print("no change: these files are the version in force")
                return
            }
            // The files in place, each replaced whole (a core reading meanwhile sees the old or the new).
            var replacements = [(proposed.routes, core.routes), (proposed.procedures, core.procedures)]
            if let new = proposed.communes, let old = core.communes { replacements.append((new, old)) }
            for (from, to) in replacements where from.standardizedFileURL != to.standardizedFileURL {
                try Data(contentsOf: from).write(to: to, options: .atomic)
            }
            let version = try store.recordConfiguration(digest: next.digest, by: self.operator)
            let record = try JSONSerialization.data(
                withJSONObject: ["digest": next.digest, "changes": diff.changes, "version": version], options: [.sortedKeys])
            try AuditLog(core.store).append(
                kind: .operatorAction, messageID: UUID().uuidString.lowercased(), type: "operator.configuration.applied",
                sender: self.operator, receivers: ["core"], correlationID: "configuration", body: record, signature: "")
            print((diff.isEmpty ? ["no change of routes, keys, rules, procedures or communes"] : diff.changes).joined(separator: "\n"))
            print("version \(version) recorded: the cores take it within 2 s (govbus_core_configuration_version)")
        } catch {
            printError("not applied: \(error)")
            throw ExitCode(1)
        }
    }
}
