import AMQPTesting
import Foundation
import GovBus
import GovBusContracts
import GovBusCore
import GovBusScaffold
import Testing

/// What `govbus new-connector` writes, checked without writing it: the schema against its own
/// examples, the edits against the repository's real files. (`scripts/new-connector-check` builds
/// a generated connector for real.)
@Suite("govbus new-connector: the scaffold")
struct ConnectorScaffoldTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func text(_ path: String) throws -> String {
        try String(contentsOf: Self.repository.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("A name is lower-case letters, new to the bus")
    func names() throws {
        for bad in ["Tax", "t", "9tax", "tax2", "tax-office", "portal", "core", "operators", String(repeating: "a", count: 21)] {
            #expect(throws: ConnectorScaffold.InvalidName.self) { try ConnectorScaffold(name: bad) }
        }
        let scaffold = try ConnectorScaffold(name: "landoffice")
        #expect(scaffold.typeName == "Landoffice")
        #expect(scaffold.messageType == "landoffice.dossier.recorded.v1")
        #expect(scaffold.messageTypeName == "LandofficeDossierRecordedV1")
    }

    @Test("The new schema compiles beside the catalogue, and its examples pass or fail as their expectations say")
    func schemaAndExamples() throws {
        let scaffold = try ConnectorScaffold(name: "tax")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scaffold-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("Schemas"), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in scaffold.files() where file.path.hasPrefix("Schemas/") {
            let url = folder.appendingPathComponent(String(file.path.dropFirst("Schemas/".count)))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.contents.write(to: url, atomically: true, encoding: .utf8)
        }
        let schema = try #require(try SchemaCatalog(folder: folder).schema(for: scaffold.messageType))
        let examples = folder.appendingPathComponent("examples/\(scaffold.messageType)")
        struct Expectation: Decodable {
            let file, instancePath, keyword: String
        }
        let expectations = try JSONDecoder().decode(
            [Expectation].self, from: Data(contentsOf: examples.appendingPathComponent("expectations.json")))
        for file in ["valid-1.json", "valid-2.json"] {
            #expect(schema.validate(try JSONValue(parsing: Data(contentsOf: examples.appendingPathComponent(file)))).isEmpty)
        }
        #expect(expectations.count == 2)
        for expectation in expectations {
            let errors = schema.validate(try JSONValue(parsing: Data(contentsOf: examples.appendingPathComponent(expectation.file))))
            #expect(errors.contains { $0.instancePath == expectation.instancePath && $0.keyword == expectation.keyword })
        }
    }

    @Test("routes.yaml gains the adapter with both keys, and still loads; a second time is refused")
    func routes() throws {
        let scaffold = try ConnectorScaffold(name: "tax")
        let original = try text("config/routes.yaml")
        let edited = try scaffold.addingToRoutes(
            original, sandboxKey: PublicSandboxKeys.publicKey(of: "tax").base64EncodedString(),
            newKeyID: "tax-2026", newKey: PublicSandboxKeys.publicKey(of: "tax-live").base64EncodedString())
        let known = Set(MessageCatalogue.all.map { $0.messageType } + [scaffold.messageType])
        let routes = try RoutesFile(edited, file: "routes.yaml", knownTypes: known)
        let adapter = try #require(routes.adapters["tax"])
        #expect(Set(adapter.keys.keys) == ["tax-sandbox", "tax-2026"])
        #expect(adapter.publishes == [scaffold.messageType, AdapterHeartbeatV1.messageType])
        #expect(adapter.receives == [DossierSubmittedV1.messageType])
        #expect(routes.adapters.count == (try RoutesFile(original, file: "routes.yaml", knownTypes: known)).adapters.count + 1)
        #expect(throws: ConnectorScaffold.MissingAnchor.self) {
            try scaffold.addingToRoutes(edited, sandboxKey: "x", newKeyID: "y", newKey: "z")
        }
        // With the adapters last and blank lines after them, the new one goes after the last adapter.
        let last = try scaffold.addingToRoutes("adapters:\n  portal:\n    receives: []\n\n", sandboxKey: "s", newKeyID: "k", newKey: "n")
        #expect(last.hasPrefix("adapters:\n  portal:\n    receives: []\n  tax:\n"))
        #expect(last.hasSuffix("receives: [portal.dossier.submitted.v1]\n\n"))
    }

    @Test("The catalogue, govbus's connector list and the lock gain their lines at their anchors; a lost anchor changes nothing")
    func edits() throws {
        let scaffold = try ConnectorScaffold(name: "tax")
        let catalogue = try scaffold.addingToCatalogue(try text("Sources/GovBusContracts/GovBusMessage.swift"))
        #expect(catalogue.contains("        TaxDossierRecordedV1.self,\n        // govbus new-connector adds"))
        let list = try scaffold.addingToConnectorList(try text("Sources/govbus/AgencyConnectors.swift"))
        #expect(list.contains("import TaxAdapter\nimport TaxSandbox\n// govbus new-connector adds its imports"))
        #expect(list.contains("try TaxConnector(runtime: $0)"))
        let package = try scaffold.addingToPackage(try text("Package.swift"))
        #expect(package.contains("    \"Tax\",\n    // govbus new-connector adds its connectors"))
        let lock = try scaffold.addingToLock("a  b.json\n", schemaDigest: "00ff")
        #expect(lock == "a  b.json\n00ff  tax.dossier.recorded.v1.schema.json\n")
        #expect(throws: ConnectorScaffold.MissingAnchor.self) { try scaffold.addingToLock(lock, schemaDigest: "00ff") }
        #expect(throws: ConnectorScaffold.MissingAnchor.self) { try scaffold.addingToCatalogue("public enum MessageCatalogue {}") }
    }

    @Test("asyncapi.yaml gains the connector's message, inbox and operations, and passes scripts/check-asyncapi; twice, for two connectors")
    func asyncAPI() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("scaffold-asyncapi-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Self.repository.appendingPathComponent("Schemas"), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let original = try text("Schemas/asyncapi.yaml")
        var document = original
        for name in ["tax", "landoffice"] {
            let scaffold = try ConnectorScaffold(name: name)
            try scaffold.schemaFile.contents.write(
                to: folder.appendingPathComponent("\(scaffold.messageType).schema.json"), atomically: true, encoding: .utf8)
            document = try scaffold.addingToAsyncAPI(document)
            #expect(document.contains("  \(name)Inbox:\n    address: govbus.adapter.\(name)\n"))
            #expect(document.contains("  send\(scaffold.typeName)DossierRecorded:\n"))
        }
        // The deliver channel's list of types names the submitted dossier once, however many connectors take it.
        let listed = "\n      - portal.dossier.submitted.v1\n"
        #expect(document.components(separatedBy: listed).count - original.components(separatedBy: listed).count <= 1)
        let file = folder.appendingPathComponent("asyncapi.yaml")
        try document.write(to: file, atomically: true, encoding: .utf8)
        let output = try await TestBroker.run(script: "check-asyncapi", arguments: [file.path])
        #expect(output.contains("is valid"))
        #expect(throws: ConnectorScaffold.MissingAnchor.self) { try ConnectorScaffold(name: "tax").addingToAsyncAPI("asyncapi: 3.0.0\n") }
    }
}
