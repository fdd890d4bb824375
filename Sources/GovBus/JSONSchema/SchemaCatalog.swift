public import Foundation

/// The message schemas of a Schemas/ folder, compiled, by message type (`portal.dossier.submitted.v1`
/// from `portal.dossier.submitted.v1.schema.json`). Cross-file `$ref`s resolve among the folder's files.
public struct SchemaCatalog: Sendable {
    public let folder: URL
    private let schemas: [String: JSONSchema]

    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Files that are not message types.
    static let supportFiles: Set<String> = ["common", "envelope"]

    public init(folder: URL) throws(LoadError) {
        self.folder = folder
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".schema.json") }.sorted()
        } catch {
            throw LoadError(description: "cannot read the schema folder \(folder.path): \(error.localizedDescription)")
        }
        guard !names.isEmpty else { throw LoadError(description: "no *.schema.json in \(folder.path)") }
        var documents: [(name: String, uri: String, schema: JSONValue)] = []
        for name in names {
            let file = folder.appendingPathComponent(name)
            do {
                let schema = try JSONValue(parsing: Data(contentsOf: file))
                var uri = file.absoluteString
                if case .object(let object) = schema, case .string(let id)? = object["$id"] { uri = id }
                documents.append((name, uri, schema))
            } catch {
                throw LoadError(description: "\(file.path) is not valid JSON: \(error)")
            }
        }
        var schemas: [String: JSONSchema] = [:]
        for document in documents {
            let type = String(document.name.dropLast(".schema.json".count))
            let others = documents.filter { $0.name != document.name }.map { (uri: $0.uri, schema: $0.schema) }
            do {
                schemas[type] = try JSONSchema(document.schema, uri: document.uri, others: others)
            } catch {
                throw LoadError(description: "\(document.name): \(error)")
            }
        }
        self.schemas = schemas
    }

    /// The message types, sorted (support files such as `common` and `envelope` left out).
    public var messageTypes: [String] {
        schemas.keys.filter { !Self.supportFiles.contains($0) }.sorted()
    }

    public func schema(for type: String) -> JSONSchema? {
        schemas[type]
    }

    /// The Schemas/ folder: `GOVBUS_SCHEMAS`, else the nearest `Schemas` folder above the current
    /// directory or the running program.
    public static func locateFolder() -> URL? {
        if let configured = ProcessInfo.processInfo.environment["GOVBUS_SCHEMAS"] {
            return URL(fileURLWithPath: configured)
        }
        var starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var folder = start
            for _ in 0..<8 {
                let candidate = folder.appendingPathComponent("Schemas")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("envelope.schema.json").path) {
                    return candidate
                }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }
}

extension SchemaCatalog {
    /// The version of a message type, from its name: `portal.dossier.submitted.v1` is version 1.
    public static func version(of type: String) -> Int? {
        guard let last = type.split(separator: ".").last, last.hasPrefix("v") else { return nil }
        return Int(last.dropFirst())
    }
}
