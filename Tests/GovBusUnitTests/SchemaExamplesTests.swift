import Foundation
import GovBus
import Testing

/// Every example of Schemas/examples/ behaves as labelled, with the validator of GovBus.
@Suite("Schemas and their examples")
struct SchemaExamplesTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    struct Expectation: Decodable {
        let file: String
        let reason: String
        let instancePath: String
        let keyword: String
    }

    static let catalog = Result { try SchemaCatalog(folder: schemas) }

    static var exampleTypes: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: schemas.appendingPathComponent("examples").path)) ?? [])
            .sorted()
    }

    @Test("Every message type of the catalogue (and of each connector made with new-connector) has a schema and examples")
    func catalogue() throws {
        let catalog = try Self.catalog.get()
        let expected: Set<String> = [
            "portal.dossier.submitted.v1", "portal.dossier.status-changed.v1",
            "registry.identity.verification-requested.v1", "registry.identity.verified.v1",
            "registry.identity.rejected.v1", "payment.fee.requested.v1", "payment.fee.link-created.v1",
            "payment.fee.paid.v1", "payment.fee.paid.v2", "payment.fee.failed.v1", "payment.fee.refund-requested.v1",
            "document.issue-requested.v1", "document.issued.v1", "document.issue-failed.v1", "bus.adapter.heartbeat.v1",
        ]
        let found = Set(catalog.messageTypes)
        #expect(expected.isSubset(of: found))
        // Any other schema is the message of a connector made with govbus new-connector, whose folder is there.
        for type in found.subtracting(expected) {
            let name = String(type.prefix { $0 != "." })
            let folder = Self.schemas.deletingLastPathComponent().appendingPathComponent("Adapters/\(name.prefix(1).uppercased() + name.dropFirst())")
            #expect(type == "\(name).dossier.recorded.v1", "\(type) is in no catalogue")
            #expect(FileManager.default.fileExists(atPath: folder.path), "\(type) belongs to no connector: no \(folder.path)")
        }
        #expect(Set(Self.exampleTypes) == found)
    }

    @Test("Valid examples pass; each invalid one fails at the place and on the keyword it says", arguments: exampleTypes)
    func examples(of type: String) throws {
        let catalog = try Self.catalog.get()
        let schema = try #require(catalog.schema(for: type), "no schema for \(type)")
        let folder = Self.schemas.appendingPathComponent("examples/\(type)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let expectations = try JSONDecoder().decode(
            [Expectation].self, from: Data(contentsOf: folder.appendingPathComponent("expectations.json")))
        let valid = files.filter { $0.hasPrefix("valid") && $0.hasSuffix(".json") }
        let invalid = files.filter { $0.hasPrefix("invalid") && $0.hasSuffix(".json") }
        #expect(valid.count >= 2 && invalid.count >= 2, "\(type) needs two valid and two invalid examples")
        for file in valid {
            let errors = schema.validate(try JSONValue(parsing: Data(contentsOf: folder.appendingPathComponent(file))))
            #expect(errors.isEmpty, "\(type)/\(file) should be valid: \(errors)")
        }
        for file in invalid {
            guard let expectation = expectations.first(where: { $0.file == file }) else {
                Issue.record("\(type)/\(file) is not in expectations.json")
                continue
            }
            #expect(!expectation.reason.isEmpty)
            let errors = schema.validate(try JSONValue(parsing: Data(contentsOf: folder.appendingPathComponent(file))))
            #expect(
                errors.contains { $0.instancePath == expectation.instancePath && $0.keyword == expectation.keyword },
                "\(type)/\(file) (\(expectation.reason)) should fail with \(expectation.keyword) at '\(expectation.instancePath)', got \(errors)")
        }
    }
}
