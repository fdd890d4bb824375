import Foundation

/// One compiled schema (or subschema): its keywords parsed once, its subschemas and `$ref`
/// targets linked to their nodes.
final class SchemaNode: @unchecked Sendable {
    // @unchecked: the compiler fills these in while it compiles (references may be cyclic, so a
    // node exists before its target); after `JSONSchema` returns, nothing changes them.

    /// Where the node is, as `document#/json/pointer`, for error reports.
    let location: String
    var alwaysValid = false
    var alwaysInvalid = false

    var reference: SchemaNode?
    var types: Set<String>?
    var enumValues: [JSONValue]?
    var constValue: JSONValue?
    var hasConst = false
    var format: String?

    var properties: [String: SchemaNode] = [:]
    var patternProperties: [(pattern: String, regex: SchemaPattern, node: SchemaNode)] = []
    var additionalProperties: SchemaNode?
    var propertyNames: SchemaNode?
    var required: [String] = []
    var dependentRequired: [String: [String]] = [:]
    var dependentSchemas: [String: SchemaNode] = [:]
    var minProperties: Int?
    var maxProperties: Int?

    var prefixItems: [SchemaNode] = []
    var items: SchemaNode?
    var contains: SchemaNode?
    var minContains: Int?
    var maxContains: Int?
    var minItems: Int?
    var maxItems: Int?
    var uniqueItems = false

    var minLength: Int?
    var maxLength: Int?
    var pattern: SchemaPattern?

    var minimum: Double?
    var maximum: Double?
    var exclusiveMinimum: Double?
    var exclusiveMaximum: Double?
    var multipleOf: Double?

    var allOf: [SchemaNode] = []
    var anyOf: [SchemaNode] = []
    var oneOf: [SchemaNode] = []
    var not: SchemaNode?
    var ifSchema: SchemaNode?
    var thenSchema: SchemaNode?
    var elseSchema: SchemaNode?

    init(location: String) {
        self.location = location
    }
}
