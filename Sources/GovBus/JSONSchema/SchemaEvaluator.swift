import Foundation

/// Checks an instance against compiled nodes, collecting every failure.
struct SchemaEvaluator {
    /// A `$ref` cycle that never consumes the instance would recurse forever: past this depth the
    /// instance is reported invalid instead.
    static let maximumDepth = 256

    func validate(
        _ instance: JSONValue, against node: SchemaNode, at path: String,
        into errors: inout [JSONSchemaValidationError], depth: Int
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        if node.alwaysValid { return }
        if node.alwaysInvalid {
            fail("false", "no value is allowed here")
            return
        }
        guard depth < Self.maximumDepth else {
            fail("$ref", "schema references nest deeper than \(Self.maximumDepth)")
            return
        }
        if let reference = node.reference {
            validate(instance, against: reference, at: path, into: &errors, depth: depth + 1)
        }
        if let types = node.types, !types.contains(where: { Self.matches(instance, type: $0) }) {
            fail("type", "must be \(types.sorted().joined(separator: " or ")), not \(instance.typeName)")
        }
        if let values = node.enumValues, !values.contains(instance) {
            fail("enum", "must be one of \(values.map(\.jsonText).joined(separator: ", "))")
        }
        if node.hasConst, let constant = node.constValue, constant != instance {
            fail("const", "must be \(constant.jsonText)")
        }
        switch instance {
        case .object(let object): validateObject(object, node, path, &errors, depth)
        case .array(let array): validateArray(array, node, path, &errors, depth)
        case .string(let text): validateString(text, node, path, &errors)
        case .number(let number): validateNumber(number, node, path, &errors)
        default: break
        }
        validateCombinators(instance, node, path, &errors, depth)
    }

    func isValid(_ instance: JSONValue, _ node: SchemaNode, _ path: String, _ depth: Int) -> Bool {
        var errors: [JSONSchemaValidationError] = []
        validate(instance, against: node, at: path, into: &errors, depth: depth + 1)
        return errors.isEmpty
    }

    static func matches(_ instance: JSONValue, type: String) -> Bool {
        switch (type, instance) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("number", .number):
            return true
        case ("integer", .number(let number)):
            return number.isFinite && number.rounded(.towardZero) == number
        default:
            return false
        }
    }

    private func validateObject(
        _ object: [String: JSONValue], _ node: SchemaNode, _ path: String,
        _ errors: inout [JSONSchemaValidationError], _ depth: Int
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        for name in node.required where object[name] == nil {
            fail("required", "is missing the required property '\(name)'")
        }
        for (name, needed) in node.dependentRequired where object[name] != nil {
            for other in needed where object[other] == nil {
                fail("dependentRequired", "has '\(name)', so it must have '\(other)' too")
            }
        }
        if let minimum = node.minProperties, object.count < minimum {
            fail("minProperties", "must have at least \(minimum) properties, not \(object.count)")
        }
        if let maximum = node.maxProperties, object.count > maximum {
            fail("maxProperties", "must have at most \(maximum) properties, not \(object.count)")
        }
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            let childPath = JSONPointer.append(path, name)
            var matched = false
            if let schema = node.properties[name] {
                matched = true
                validate(value, against: schema, at: childPath, into: &errors, depth: depth + 1)
            }
            for (_, regex, schema) in node.patternProperties where Self.search(regex, name) {
                matched = true
                validate(value, against: schema, at: childPath, into: &errors, depth: depth + 1)
            }
            if !matched, let additional = node.additionalProperties {
                if additional.alwaysInvalid {
                    errors.append(
                        JSONSchemaValidationError(
                            instancePath: childPath, schemaPath: "\(node.location)/additionalProperties",
                            keyword: "additionalProperties", message: "is not an allowed property"))
                } else {
                    validate(value, against: additional, at: childPath, into: &errors, depth: depth + 1)
                }
            }
            if let names = node.propertyNames, !isValid(.string(name), names, childPath, depth) {
                fail("propertyNames", "has a property name '\(name)' that is not allowed")
            }
        }
        for (name, schema) in node.dependentSchemas where object[name] != nil {
            validate(.object(object), against: schema, at: path, into: &errors, depth: depth + 1)
        }
    }

    private func validateArray(
        _ array: [JSONValue], _ node: SchemaNode, _ path: String,
        _ errors: inout [JSONSchemaValidationError], _ depth: Int
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        if let minimum = node.minItems, array.count < minimum {
            fail("minItems", "must have at least \(minimum) items, not \(array.count)")
        }
        if let maximum = node.maxItems, array.count > maximum {
            fail("maxItems", "must have at most \(maximum) items, not \(array.count)")
        }
        if node.uniqueItems {
            outer: for first in array.indices {
                for second in array.indices where second > first && array[first] == array[second] {
                    fail("uniqueItems", "must not repeat items (\(first) and \(second) are equal)")
                    break outer
                }
            }
        }
        for (index, item) in array.enumerated() {
            let childPath = "\(path)/\(index)"
            if index < node.prefixItems.count {
                validate(item, against: node.prefixItems[index], at: childPath, into: &errors, depth: depth + 1)
            } else if let items = node.items {
                validate(item, against: items, at: childPath, into: &errors, depth: depth + 1)
            }
        }
        if let contains = node.contains {
            let count = array.enumerated().filter { isValid($0.element, contains, "\(path)/\($0.offset)", depth) }.count
            let minimum = node.minContains ?? 1
            if count < minimum {
                fail("contains", "must contain at least \(minimum) matching items, not \(count)")
            }
            if let maximum = node.maxContains, count > maximum {
                fail("maxContains", "must contain at most \(maximum) matching items, not \(count)")
            }
        }
    }

    private func validateString(
        _ text: String, _ node: SchemaNode, _ path: String, _ errors: inout [JSONSchemaValidationError]
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        // Lengths count Unicode code points, as JSON Schema does.
        if let minimum = node.minLength, text.unicodeScalars.count < minimum {
            fail("minLength", "must be at least \(minimum) characters long")
        }
        if let maximum = node.maxLength, text.unicodeScalars.count > maximum {
            fail("maxLength", "must be at most \(maximum) characters long")
        }
        if let (source, regex) = node.pattern, !Self.search(regex, text) {
            fail("pattern", "must match the pattern \(source)")
        }
        if let format = node.format, let check = FormatChecks.check(format), !check(text) {
            fail("format", "must be a valid \(format)")
        }
    }

    private func validateNumber(
        _ number: Double, _ node: SchemaNode, _ path: String, _ errors: inout [JSONSchemaValidationError]
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        if let minimum = node.minimum, number < minimum { fail("minimum", "must be at least \(minimum.jsonNumber)") }
        if let maximum = node.maximum, number > maximum { fail("maximum", "must be at most \(maximum.jsonNumber)") }
        if let minimum = node.exclusiveMinimum, number <= minimum {
            fail("exclusiveMinimum", "must be more than \(minimum.jsonNumber)")
        }
        if let maximum = node.exclusiveMaximum, number >= maximum {
            fail("exclusiveMaximum", "must be less than \(maximum.jsonNumber)")
        }
        if let divisor = node.multipleOf, !Self.isMultiple(number, of: divisor) {
            fail("multipleOf", "must be a multiple of \(divisor.jsonNumber)")
        }
    }

    private func validateCombinators(
        _ instance: JSONValue, _ node: SchemaNode, _ path: String,
        _ errors: inout [JSONSchemaValidationError], _ depth: Int
    ) {
        func fail(_ keyword: String, _ message: String) {
            errors.append(Self.failure(node, path, keyword, message))
        }
        for schema in node.allOf {
            validate(instance, against: schema, at: path, into: &errors, depth: depth + 1)
        }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { isValid(instance, $0, path, depth) }) {
            fail("anyOf", "must match at least one of \(node.anyOf.count) schemas")
        }
        if !node.oneOf.isEmpty {
            let matching = node.oneOf.filter { isValid(instance, $0, path, depth) }.count
            if matching != 1 { fail("oneOf", "must match exactly one of \(node.oneOf.count) schemas, matches \(matching)") }
        }
        if let not = node.not, isValid(instance, not, path, depth) {
            fail("not", "must not match the schema at \(not.location)")
        }
        if let condition = node.ifSchema {
            let branch = isValid(instance, condition, path, depth) ? node.thenSchema : node.elseSchema
            if let branch { validate(instance, against: branch, at: path, into: &errors, depth: depth + 1) }
        }
    }

    static func failure(_ node: SchemaNode, _ path: String, _ keyword: String, _ message: String)
        -> JSONSchemaValidationError
    {
        JSONSchemaValidationError(
            instancePath: path, schemaPath: "\(node.location)/\(keyword)", keyword: keyword, message: message)
    }

    static func search(_ regex: NSRegularExpression, _ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// Exact for decimal values (0.0075 is a multiple of 0.0001), which binary division is not.
    static func isMultiple(_ number: Double, of divisor: Double) -> Bool {
        guard divisor > 0, number.isFinite else { return false }
        if let value = Decimal(string: "\(number)"), let step = Decimal(string: "\(divisor)"),
            !value.isNaN, !step.isNaN, abs(number) < 1e30
        {
            var quotient = value / step
            var rounded = Decimal()
            NSDecimalRound(&rounded, &quotient, 0, .plain)
            return rounded == quotient
        }
        let quotient = number / divisor
        return quotient.isFinite && quotient.rounded() == quotient
    }
}

extension Double {
    /// As JSON writes it: integers without a fraction.
    var jsonNumber: String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}
