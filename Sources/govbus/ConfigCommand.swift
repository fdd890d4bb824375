import ArgumentParser
import Foundation
import GovBus
import GovBusConfiguration
import GovBusCore

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "The core's routes, procedures and communes, and their changes.",
        subcommands: [ConfigDiffCommand.self, ConfigApplyCommand.self])
}

struct ConfigDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what new routes or procedures files would change against the core's, before applying them.",
        discussion: """
            Each FILE is a routes file (it has `adapters:`), a procedures file (`procedures:`) or a communes file (`changes:`), checked \
            in full as the core would check it; it is compared with the file of the same kind that the \
            core's configuration names. One line a change: `+` added, `-` removed, `~` changed \
            (adapters, what each publishes and receives, keys, rules, procedures, communes). Apply them with \
            `govbus config apply --operator NAME FILE…`, or put them in place and send the core SIGHUP. \
            Exit status: 0 with or without changes, 2 when a file is not valid (its line is named).
            """)

    @Option(help: "The core's configuration, whose routes and procedures are in force.") var config = "config/core.yaml"
    @Argument(help: "The new routes, procedures and communes files.") var files: [String]

    func run() throws {
        do {
            let core = try CoreConfiguration(contentsOf: URL(fileURLWithPath: config), environment: ["GOVBUS_AMQP_URL": "-"])
            let catalog = try SchemaCatalog(folder: core.schemas)
            var diff: ConfigurationDiff?
            for file in files {
                let url = URL(fileURLWithPath: file)
                let changes: ConfigurationDiff
                let top = try Self.topKeys(url)
                if top.contains("changes") {
                    changes = ConfigurationDiff(
                        communes: try core.communes.map { try CommuneChanges(contentsOf: $0) } ?? .none,
                        try CommuneChanges(contentsOf: url))
                } else if top.contains("procedures") {
                    changes = ConfigurationDiff(
                        procedures: try ProceduresFile(contentsOf: core.procedures).procedures,
                        try ProceduresFile(contentsOf: url).procedures)
                } else {
                    let known = Set(catalog.messageTypes)
                    changes = ConfigurationDiff(
                        routes: try RoutesFile(contentsOf: core.routes, knownTypes: known), try RoutesFile(contentsOf: url, knownTypes: known))
                }
                diff = diff.map { $0 + changes } ?? changes
            }
            let lines = diff?.changes ?? []
            print(lines.isEmpty ? "no change" : lines.joined(separator: "\n"))
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
    }

    /// What a file is, by the keys at its top: `procedures:` a procedures file, `changes:` a
    /// communes file; anything else is read as a routes file.
    static func topKeys(_ url: URL) throws -> Set<String> {
        let root = try YAMLValue.load(url)
        return Set(try root.mapping(what: url.lastPathComponent).map(\.key))
    }
}
