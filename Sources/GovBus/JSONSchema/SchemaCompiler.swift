import Foundation

/// Compiles schema documents into linked `SchemaNode`s: finds every resource (`$id`) and anchor,
/// compiles each subschema once, and resolves `$ref`s by URI, JSON Pointer or anchor.
final class SchemaCompiler {
    private struct Place {
        let document: Int
        let pointer: String
    }

    private var documents: [(json: JSONValue, base: SchemaURI)] = []
    private var resources: [String: Place] = [:]
    private var anchors: [String: Place] = [:]
    private var compiled: [String: SchemaNode] = [:]
    private var unresolved: [(node: SchemaNode, reference: SchemaURI)] = []

    /// Subschema keywords: a schema, a map of schemas, or an array of schemas.
    static let schemaKeywords: Set<String> = [
        "additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    ]
    static let schemaMapKeywords: Set<String> = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]
    static let schemaArrayKeywords: Set<String> = ["prefixItems", "allOf", "anyOf", "oneOf"]

    /// Adds a document, with `base` as its URI unless its `$id` says otherwise; returns its root.
    @discardableResult
    func add(_ json: JSONValue, base: String) throws(JSONSchemaCompileError) -> SchemaNode {
        let index = documents.count
        documents.append((json, SchemaURI(base).withoutFragment))
        resources[SchemaURI(base).withoutFragment.description] = Place(document: index, pointer: "")
        register(json, document: index, pointer: "", base: SchemaURI(base).withoutFragment)
        return try node(at: Place(document: index, pointer: ""))
    }

    /// Links every `$ref` compiled so far (and what they bring in).
    func resolveReferences() throws(JSONSchemaCompileError) {
        while let (node, reference) = unresolved.popLast() {
            node.reference = try resolve(reference, from: node)
        }
    }

    // MARK: Finding resources and anchors

    private func register(_ json: JSONValue, document: Int, pointer: String, base: SchemaURI) {
        guard case .object(let object) = json else { return }
        var base = base
        if case .string(let id)? = object["$id"] {
            base = SchemaURI(id).resolved(against: base).withoutFragment
            resources[base.description] = Place(document: document, pointer: pointer)
        }
        for keyword in ["$anchor", "$dynamicAnchor"] {
            if case .string(let anchor)? = object[keyword] {
                anchors["\(base.description)#\(anchor)"] = Place(document: document, pointer: pointer)
            }
        }
        for (keyword, value) in object {
            let childPointer = JSONPointer.append(pointer, keyword)
            if Self.schemaKeywords.contains(keyword) {
                register(value, document: document, pointer: childPointer, base: base)
            } else if Self.schemaMapKeywords.contains(keyword), case .object(let map) = value {
                for (name, schema) in map {
                    register(schema, document: document, pointer: JSONPointer.append(childPointer, name), base: base)
                }
            } else if Self.schemaArrayKeywords.contains(keyword), case .array(let array) = value {
                for (offset, schema) in array.enumerated() {
                    register(schema, document: document, pointer: "\(childPointer)/\(offset)", base: base)
                }
            }
        }
    }

    // MARK: Compiling

    private func node(at place: Place) throws(JSONSchemaCompileError) -> SchemaNode {
        let key = "\(place.document)#\(place.pointer)"
        if let existing = compiled[key] { return existing }
        let (json, base) = try lookUp(place)
        let documentName = documents[place.document].base.description
        let node = SchemaNode(location: "\(documentName)#\(place.pointer)")
        compiled[key] = node
        try fill(node, from: json, place: place, base: base)
        return node
    }

    /// The JSON at a place, and the base URI in force there.
    private func lookUp(_ place: Place) throws(JSONSchemaCompileError) -> (JSONValue, SchemaURI) {
        var (json, base) = documents[place.document]
        if case .object(let object) = json, case .string(let id)? = object["$id"] {
            base = SchemaURI(id).resolved(against: base).withoutFragment
        }
        guard let tokens = JSONPointer.tokens(place.pointer) else {
            throw JSONSchemaCompileError("'\(place.pointer)' is not a JSON Pointer")
        }
        for token in tokens {
            switch json {
            case .object(let object):
                guard let next = object[token] else {
                    throw JSONSchemaCompileError("nothing at '\(place.pointer)' in \(documents[place.document].base)")
                }
                json = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else {
                    throw JSONSchemaCompileError("nothing at '\(place.pointer)' in \(documents[place.document].base)")
                }
                json = array[index]
            default:
                throw JSONSchemaCompileError("nothing at '\(place.pointer)' in \(documents[place.document].base)")
            }
            if case .object(let object) = json, case .string(let id)? = object["$id"] {
                base = SchemaURI(id).resolved(against: base).withoutFragment
            }
        }
        return (json, base)
    }

    private func child(_ place: Place, _ tokens: String...) throws(JSONSchemaCompileError) -> SchemaNode {
        var pointer = place.pointer
        for token in tokens { pointer = JSONPointer.append(pointer, token) }
        return try node(at: Place(document: place.document, pointer: pointer))
    }

    private func fill(_ node: SchemaNode, from json: JSONValue, place: Place, base: SchemaURI) throws(JSONSchemaCompileError) {
        switch json {
        case .bool(let flag):
            node.alwaysValid = flag
            node.alwaysInvalid = !flag
            return
        case .object:
            break
        default:
            throw JSONSchemaCompileError("the schema at \(node.location) is neither an object nor a boolean")
        }
        guard case .object(let schema) = json else { return }
        func integer(_ keyword: String) throws(JSONSchemaCompileError) -> Int? {
            guard let value = schema[keyword] else { return nil }
            guard case .number(let number) = value, number >= 0, number.rounded() == number else {
                throw JSONSchemaCompileError("'\(keyword)' at \(node.location) must be a non-negative integer")
            }
            return Int(number)
        }
        func number(_ keyword: String) throws(JSONSchemaCompileError) -> Double? {
            guard let value = schema[keyword] else { return nil }
            guard case .number(let number) = value else {
                throw JSONSchemaCompileError("'\(keyword)' at \(node.location) must be a number")
            }
            return number
        }

        if case .string(let reference)? = schema["$ref"] {
            unresolved.append((node, SchemaURI(reference).resolved(against: base)))
        }
        switch schema["type"] {
        case .string(let type)?: node.types = [type]
        case .array(let types)?: node.types = Set(types.compactMap { if case .string(let t) = $0 { t } else { nil } })
        default: break
        }
        if case .array(let values)? = schema["enum"] { node.enumValues = values }
        if let value = schema["const"] {
            node.constValue = value
            node.hasConst = true
        }
        if case .string(let format)? = schema["format"] { node.format = format }

        if case .object(let properties)? = schema["properties"] {
            for name in properties.keys { node.properties[name] = try child(place, "properties", name) }
        }
        if case .object(let patterns)? = schema["patternProperties"] {
            for source in patterns.keys.sorted() {
                node.patternProperties.append(
                    (source, try SchemaPattern(source, at: node.location), try child(place, "patternProperties", source)))
            }
        }
        if schema["additionalProperties"] != nil { node.additionalProperties = try child(place, "additionalProperties") }
        if schema["propertyNames"] != nil { node.propertyNames = try child(place, "propertyNames") }
        if case .array(let names)? = schema["required"] {
            node.required = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
        }
        if case .object(let dependencies)? = schema["dependentRequired"] {
            for (name, value) in dependencies {
                if case .array(let names) = value {
                    node.dependentRequired[name] = names.compactMap { if case .string(let n) = $0 { n } else { nil } }
                }
            }
        }
        if case .object(let dependencies)? = schema["dependentSchemas"] {
            for name in dependencies.keys { node.dependentSchemas[name] = try child(place, "dependentSchemas", name) }
        }
        node.minProperties = try integer("minProperties")
        node.maxProperties = try integer("maxProperties")

        if case .array(let prefix)? = schema["prefixItems"] {
            for index in prefix.indices { node.prefixItems.append(try child(place, "prefixItems", "\(index)")) }
        }
        if schema["items"] != nil { node.items = try child(place, "items") }
        if schema["contains"] != nil { node.contains = try child(place, "contains") }
        node.minContains = try integer("minContains")
        node.maxContains = try integer("maxContains")
        node.minItems = try integer("minItems")
        node.maxItems = try integer("maxItems")
        if case .bool(let unique)? = schema["uniqueItems"] { node.uniqueItems = unique }

        node.minLength = try integer("minLength")
        node.maxLength = try integer("maxLength")
        if case .string(let source)? = schema["pattern"] { node.pattern = try SchemaPattern(source, at: node.location) }

        node.minimum = try number("minimum")
        node.maximum = try number("maximum")
        node.exclusiveMinimum = try number("exclusiveMinimum")
        node.exclusiveMaximum = try number("exclusiveMaximum")
        node.multipleOf = try number("multipleOf")

        for (keyword, path) in [("allOf", \SchemaNode.allOf), ("anyOf", \.anyOf), ("oneOf", \.oneOf)] {
            if case .array(let schemas)? = schema[keyword] {
                var nodes: [SchemaNode] = []
                for index in schemas.indices { nodes.append(try child(place, keyword, "\(index)")) }
                node[keyPath: path] = nodes
            }
        }
        if schema["not"] != nil { node.not = try child(place, "not") }
        if schema["if"] != nil {
            node.ifSchema = try child(place, "if")
            if schema["then"] != nil { node.thenSchema = try child(place, "then") }
            if schema["else"] != nil { node.elseSchema = try child(place, "else") }
        }
    }

    private func resolve(_ reference: SchemaURI, from node: SchemaNode) throws(JSONSchemaCompileError) -> SchemaNode {
        let resourceKey = reference.withoutFragment.description
        guard let resource = resources[resourceKey] else {
            throw JSONSchemaCompileError("$ref '\(reference)' at \(node.location) names no known schema")
        }
        let fragment = reference.fragment.flatMap { $0.removingPercentEncoding ?? $0 } ?? ""
        if fragment.isEmpty || fragment.hasPrefix("/") {
            do {
                return try self.node(at: Place(document: resource.document, pointer: resource.pointer + fragment))
            } catch {
                throw JSONSchemaCompileError("$ref '\(reference)' at \(node.location) leads nowhere: \(error)")
            }
        }
        guard let anchored = anchors["\(resourceKey)#\(fragment)"] else {
            throw JSONSchemaCompileError("$ref '\(reference)' at \(node.location): no anchor '\(fragment)'")
        }
        return try self.node(at: anchored)
    }
}

/// A schema that cannot be compiled: what is wrong and where.
public struct JSONSchemaCompileError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
