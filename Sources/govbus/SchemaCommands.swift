import ArgumentParser
import Foundation
import GovBus

/// Options shared by the commands that read Schemas/.
struct SchemaOptions: ParsableArguments {
    @Option(help: "The Schemas/ folder (default: $GOVBUS_SCHEMAS, else the nearest Schemas/ folder).")
    var schemas: String?

    func catalog() throws -> SchemaCatalog {
        guard let folder = schemas.map({ URL(fileURLWithPath: $0) }) ?? SchemaCatalog.locateFolder() else {
            throw ValidationError("cannot find the Schemas/ folder: pass --schemas or set GOVBUS_SCHEMAS")
        }
        return try SchemaCatalog(folder: folder)
    }
}

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate a JSON file against a message type's schema.",
        discussion: """
            Prints each error with the JSON Pointer of the failing value. Exit status: 0 valid, \
            1 invalid, 2 unknown type or unreadable file. Without --type, the type is the name of \
            the folder the file is in (as in Schemas/examples/<type>/).
            """)

    @Argument(help: "The JSON file.") var file: String
    @Option(help: "The message type, e.g. portal.dossier.submitted.v1.") var type: String?
    @OptionGroup var schemaOptions: SchemaOptions

    func run() throws {
        let catalog = try schemaOptions.catalog()
        let url = URL(fileURLWithPath: file)
        let typeName = type ?? url.deletingLastPathComponent().lastPathComponent
        guard let schema = catalog.schema(for: typeName) else {
            printError("unknown message type '\(typeName)'; `govbus schemas` lists the known ones")
            throw ExitCode(2)
        }
        let instance: JSONValue
        do {
            instance = try JSONValue(parsing: Data(contentsOf: url))
        } catch {
            printError("\(file) cannot be read as JSON: \(error)")
            throw ExitCode(2)
        }
        let errors = schema.validate(instance)
        guard !errors.isEmpty else {
            print("\(file): valid \(typeName)")
            return
        }
        print("\(file): not a valid \(typeName), \(errors.count) error\(errors.count == 1 ? "" : "s"):")
        for error in errors {
            print("  \(error.instancePath.isEmpty ? "/" : error.instancePath): \(error.message) [\(error.keyword)]")
        }
        throw ExitCode(1)
    }
}

struct SchemasCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas", abstract: "List the message types and their versions.")

    @OptionGroup var schemaOptions: SchemaOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let catalog = try schemaOptions.catalog()
        if json {
            let entries = catalog.messageTypes.map { ["type": $0, "version": "\(SchemaCatalog.version(of: $0) ?? 0)"] }
            let data = try JSONSerialization.data(withJSONObject: entries, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let width = catalog.messageTypes.map(\.count).max() ?? 4
        print("TYPE".padding(toLength: width, withPad: " ", startingAt: 0) + "  VERSION")
        for type in catalog.messageTypes {
            print(type.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(SchemaCatalog.version(of: type) ?? 0)")
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data("govbus: \(text)\n".utf8))
}
