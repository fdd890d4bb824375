import Foundation
import GovBus
import GovBusContracts
import Testing

/// The Swift types of GovBusContracts follow Schemas/: every valid example decodes, and encodes
/// back into JSON that its schema accepts and that decodes to the same value.
@Suite("Contracts match the schemas")
struct ContractTests {
    static let schemas = SchemaExamplesTests.schemas

    @Test("Every catalogue type has a Swift type, and every Swift type a schema")
    func everyType() throws {
        let catalog = try SchemaExamplesTests.catalog.get()
        #expect(Set(MessageCatalogue.all.map { $0.messageType }) == Set(catalog.messageTypes))
        // A version is a type of its own, named by its schema file (Schemas/README.md, "Versions").
        for type in MessageCatalogue.all { #expect(type.messageType.hasSuffix(".v\(type.version)")) }
        #expect(FeePaidV2.version == 2)
    }

    @Test("Valid examples decode and re-encode into valid JSON", arguments: MessageCatalogue.all.map { $0.messageType })
    func roundTrip(_ typeName: String) throws {
        let catalog = try SchemaExamplesTests.catalog.get()
        let schema = try #require(catalog.schema(for: typeName))
        let type = try #require(MessageCatalogue.type(named: typeName))
        let folder = Self.schemas.appendingPathComponent("examples/\(typeName)")
        let valid = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("valid") }
        #expect(valid.count >= 2)
        for file in valid {
            let original = try Data(contentsOf: folder.appendingPathComponent(file))
            try check(type, original, schema, "\(typeName)/\(file)")
        }
    }

    private func check<Message: GovBusMessage>(
        _ type: Message.Type, _ original: Data, _ schema: JSONSchema, _ name: String
    ) throws {
        let decoded = try Message(jsonBody: original)
        let encoded = try decoded.jsonBody()
        let errors = schema.validate(try JSONValue(parsing: encoded))
        #expect(errors.isEmpty, "\(name) re-encoded is not valid: \(errors)\n\(String(decoding: encoded, as: UTF8.self))")
        #expect(try Message(jsonBody: encoded) == decoded, "\(name) does not survive a round trip")
    }
}
