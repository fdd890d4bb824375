

/// A JSON Schema (draft 2020-12), compiled once and reused for any number of instances.
///
/// Supported: type, enum, const, properties, required, additionalProperties, patternProperties,
/// propertyNames, dependentRequired, dependentSchemas, min/maxProperties, items, prefixItems,
/// contains with min/maxContains, min/maxItems, uniqueItems, min/maxLength, pattern, minimum,
/// maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not,
/// if/then/else, $ref with $id, $anchor and $defs (inside a document and across documents), and
/// `format` as an assertion for date, date-time, time, email, uuid and uri. Not supported:
/// unevaluatedItems/Properties, $dynamicRef (treated as $ref is not), vocabularies.
public struct JSONSchema: Sendable {
    let root: SchemaNode

    /// Compiles `schema`, whose URI is `uri` unless its `$id` says otherwise. `$ref`s may name the
    /// `others` documents (each with its own URI or `$id`), as the schemas of Schemas/ do.
    public init(
        _ schema: JSONValue, uri: String = "urn:govbus:schema", others: [(uri: String, schema: JSONValue)] = []
    ) throws(JSONSchemaCompileError) {
        let compiler = SchemaCompiler()
        for other in others { try compiler.add(other.schema, base: other.uri) }
        root = try compiler.add(schema, base: uri)
        try compiler.resolveReferences()
    }

    /// Every failure of `instance`, each with its instance path and schema path; empty when valid.
    public func validate(_ instance: JSONValue) -> [JSONSchemaValidationError] {
        // Most messages are valid: a quick pass first, the full listing only when it fails.
        let evaluator = SchemaEvaluator()
        return evaluator.conforms(instance, to: root) ? [] : evaluator.failures(of: instance, against: root)
    }

    public func isValid(_ instance: JSONValue) -> Bool {
        SchemaEvaluator().conforms(instance, to: root)
    }
}

/// One failure: where in the instance (a JSON Pointer), which rule (the schema's location and
/// keyword), and a sentence for a person.
public struct JSONSchemaValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let instancePath: String
    public let schemaPath: String
    public let keyword: String
    public let message: String

    public var description: String {
        "\(instancePath.isEmpty ? "/" : instancePath): \(message) (\(keyword) at \(schemaPath))"
    }
}
