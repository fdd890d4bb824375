import Foundation

/// What `govbus new-connector NAME` writes: a connector for a new agency that works from the
/// start. Its adapter takes a copy of every dossier submitted on the portal, sends it to the
/// agency's system (its sandbox, to begin with) and publishes the agency's receipt as
/// `<name>.dossier.recorded.v1`, which the core audits into the dossier's timeline.
///
/// The new files come from `files`; the files the repository already has are edited by the
/// `adding…` functions, each of which refuses (throws) rather than guess when its anchor is gone.
public struct ConnectorScaffold: Sendable {
    /// `tax`: the broker user, the routes' adapter name, the message types' domain.
    public let name: String
    /// `Tax`: the Swift prefix (`TaxAdapter`, `TaxConnector`).
    public let typeName: String

    public struct InvalidName: Error, CustomStringConvertible {
        public let description: String
    }

    public init(name: String) throws {
        // Letters only: the name starts every message type, whose pattern (envelope.schema.json) has no digits.
        guard (2...20).contains(name.utf8.count), name.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }) else {
            throw InvalidName(description: "a connector's name is 2 to 20 lower-case letters (such as tax), not '\(name)'")
        }
        guard !Self.reserved.contains(name) else {
            throw InvalidName(description: "'\(name)' is taken: the bus uses it already")
        }
        self.name = name
        typeName = name.prefix(1).uppercased() + name.dropFirst()
    }

    /// Names the bus's own users, keys, modules and message domains have.
    static let reserved: Set<String> = [
        "portal", "registry", "payment", "document", "bus", "core", "govbus", "console", "operator", "operators", "protocols", "examples",
    ]

    /// The message the adapter publishes.
    public var messageType: String { "\(name).dossier.recorded.v1" }
    /// Its Swift type.
    public var messageTypeName: String { "\(typeName)DossierRecordedV1" }
    /// The key of the message in asyncapi.yaml: `taxDossierRecordedV1`.
    public var asyncAPIKey: String { "\(name)DossierRecordedV1" }
    public var adapterFolder: String { "Adapters/\(typeName)/Adapter" }
    public var sandboxFolder: String { "Adapters/\(typeName)/Sandbox" }

    public struct File: Sendable, Hashable {
        public let path: String
        public let contents: String
    }

    /// Every new file, paths relative to the repository.
    public func files() -> [File] {
        [
            File(path: "\(adapterFolder)/\(typeName)Connector.swift", contents: connectorSource),
            File(path: "\(sandboxFolder)/\(typeName)Sandbox.swift", contents: sandboxSource),
            File(path: "Sources/GovBusContracts/\(typeName)Messages.swift", contents: contractSource),
            schemaFile,
            File(path: "Tests/AdaptersUnitTests/\(typeName)ConnectorTests.swift", contents: testSource),
        ] + examples.map { File(path: "Schemas/examples/\(messageType)/\($0.key)", contents: $0.value) }
    }

    public var schemaFile: File { File(path: "Schemas/\(messageType).schema.json", contents: schema) }

    // MARK: Edits of what exists

    public struct MissingAnchor: Error, CustomStringConvertible {
        public let description: String
    }

    /// `MessageCatalogue.all` gains the new type, before the line that says where.
    public func addingToCatalogue(_ text: String) throws -> String {
        try inserting("        \(messageTypeName).self,\n", before: Self.catalogueAnchor, in: text, file: "GovBusMessage.swift")
    }

    static let catalogueAnchor = "        // govbus new-connector adds its messages above this line."

    /// govbus's list of connectors gains the new one: its modules imported, its entry listed.
    public func addingToConnectorList(_ text: String) throws -> String {
        let imported = try inserting(
            "import \(typeName)Adapter\nimport \(typeName)Sandbox\n", before: "// govbus new-connector adds its imports above this line.",
            in: text, file: "AgencyConnectors.swift")
        return try inserting(
            """
                    Entry(
                        name: "\(name)", connector: { try \(typeName)Connector(runtime: $0) },
                        sandbox: { host, port, data, faults, logger in
                            try await \(typeName)Sandbox.application(host: host, port: port, dataDirectory: data, faults: faults, logger: logger)
                        }),

            """, before: "        // govbus new-connector adds its connectors above this line.", in: imported, file: "AgencyConnectors.swift")
    }

    /// Package.swift declares the connector's two targets.
    public func addingToPackage(_ text: String) throws -> String {
        try inserting("    \"\(typeName)\",\n", before: "    // govbus new-connector adds its connectors above this line.", in: text, file: "Package.swift")
    }

    /// routes.yaml gains the adapter: its keys (the sandbox's, and a new one for going live), what it
    /// publishes, and what it receives (a copy of every submitted dossier).
    public func addingToRoutes(_ text: String, sandboxKey: String, newKeyID: String, newKey: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        guard let adapters = lines.firstIndex(of: "adapters:") else {
            throw MissingAnchor(description: "routes.yaml has no line 'adapters:'")
        }
        // The section runs to the next line at the left margin (a comment or another section).
        var end = lines[(adapters + 1)...].firstIndex { !$0.hasPrefix(" ") && !$0.isEmpty } ?? lines.endIndex
        if lines[(adapters + 1)..<end].contains("  \(name):") {
            throw MissingAnchor(description: "routes.yaml has an adapter '\(name)' already")
        }
        // After the last adapter, not after the blank lines that may end the section (or the file).
        while end > adapters + 1, lines[end - 1].trimmingCharacters(in: .whitespaces).isEmpty { end -= 1 }
        lines.insert(
            contentsOf: [
                "  \(name):",
                "    keys: {\(name)-sandbox: \(sandboxKey), \(newKeyID): \(newKey)}",
                "    publishes: [\(messageType), bus.adapter.heartbeat.v1]",
                "    receives: [portal.dossier.submitted.v1]",
            ], at: end)
        return lines.joined(separator: "\n")
    }

    /// schemas.lock gains the new schema's digest; a schema locked already is refused (a published
    /// schema never changes: Schemas/README.md).
    public func addingToLock(_ text: String, schemaDigest: String) throws -> String {
        let file = "\(messageType).schema.json"
        guard !text.split(separator: "\n").contains(where: { $0.hasSuffix("  \(file)") }) else {
            throw MissingAnchor(description: "schemas.lock has \(file) already: a published schema never changes")
        }
        return (text.hasSuffix("\n") || text.isEmpty ? text : text + "\n") + "\(schemaDigest)  \(file)\n"
    }

    func inserting(_ addition: String, before anchor: String, in text: String, file: String) throws -> String {
        guard let range = text.range(of: anchor) else {
            throw MissingAnchor(description: "\(file) has lost the line '\(anchor.trimmingCharacters(in: .whitespaces))': add the lines by hand")
        }
        var edited = text
        edited.insert(contentsOf: addition, at: range.lowerBound)
        return edited
    }
}
