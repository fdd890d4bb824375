import Foundation

/// What an evaluation found. A quick check stops at the first failure and builds no message or
/// path; a full one lists every failure with its paths.
struct EvaluationReport {
    let listsEveryFailure: Bool
    private(set) var failed = false
    private(set) var errors: [JSONSchemaValidationError] = []

    init(listsEveryFailure: Bool) {
        self.listsEveryFailure = listsEveryFailure
    }

    var shouldStop: Bool { failed && !listsEveryFailure }

    mutating func fail(_ node: SchemaNode, _ path: String, _ keyword: String, _ message: @autoclosure () -> String) {
        failed = true
        guard listsEveryFailure else { return }
        errors.append(
            JSONSchemaValidationError(
                instancePath: path, schemaPath: "\(node.location)/\(keyword)", keyword: keyword, message: message()))
    }
}

/// Checks an instance against compiled nodes.
struct SchemaEvaluator {
    /// A `$ref` cycle that never consumes the instance would recurse forever: past this depth the
    /// instance is reported invalid instead.
    static let maximumDepth = 256

    /// Whether the instance is valid, at the lowest cost (used for valid messages, the usual case,
    /// and inside anyOf, oneOf, not, if and contains).
    func conforms(_ instance: JSONValue, to node: SchemaNode, depth: Int = 0) -> Bool {
        var report = EvaluationReport(listsEveryFailure: false)
        evaluate(instance, node, "", &report, depth)
        return !report.failed
    }

    /// Every failure, with paths and messages.
    func failures(of instance: JSONValue, against node: SchemaNode) -> [JSONSchemaValidationError] {
        var report = EvaluationReport(listsEveryFailure: true)
        evaluate(instance, node, "", &report, 0)
        return report.errors
    }

    private func child(_ path: String, _ token: String, _ report: EvaluationReport) -> String {
        report.listsEveryFailure ? JSONPointer.append(path, token) : ""
    }

    func evaluate(
        _ instance: JSONValue, _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport, _ depth: Int
    ) {
        if node.alwaysValid { return }
        if node.alwaysInvalid {
            report.fail(node, path, "false", "no value is allowed here")
            return
        }
        guard depth < Self.maximumDepth else {
            report.fail(node, path, "$ref", "schema references nest deeper than \(Self.maximumDepth)")
            return
        }
        if let reference = node.reference {
            evaluate(instance, reference, path, &report, depth + 1)
            if report.shouldStop { return }
        }
        if let types = node.types, !types.contains(where: { Self.matches(instance, type: $0) }) {
            report.fail(node, path, "type", "must be \(types.sorted().joined(separator: " or ")), not \(instance.typeName)")
            if report.shouldStop { return }
        }
        if let values = node.enumValues, !values.contains(instance) {
            report.fail(node, path, "enum", "must be one of \(values.map(\.jsonText).joined(separator: ", "))")
            if report.shouldStop { return }
        }
        if node.hasConst, let constant = node.constValue, constant != instance {
            report.fail(node, path, "const", "must be \(constant.jsonText)")
            if report.shouldStop { return }
        }
        switch instance {
        case .object(let object): evaluateObject(object, node, path, &report, depth)
        case .array(let array): evaluateArray(array, node, path, &report, depth)
        case .string(let text): evaluateString(text, node, path, &report)
        case .number(let number): evaluateNumber(number, node, path, &report)
        default: break
        }
        if report.shouldStop { return }
        evaluateCombinators(instance, node, path, &report, depth)
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

    private func evaluateObject(
        _ object: [String: JSONValue], _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport,
        _ depth: Int
    ) {
        for name in node.required where object[name] == nil {
            report.fail(node, path, "required", "is missing the required property '\(name)'")
            if report.shouldStop { return }
        }
        for (name, needed) in node.dependentRequired where object[name] != nil {
            for other in needed where object[other] == nil {
                report.fail(node, path, "dependentRequired", "has '\(name)', so it must have '\(other)' too")
                if report.shouldStop { return }
            }
        }
        if let minimum = node.minProperties, object.count < minimum {
            report.fail(node, path, "minProperties", "must have at least \(minimum) properties, not \(object.count)")
        }
        if let maximum = node.maxProperties, object.count > maximum {
            report.fail(node, path, "maxProperties", "must have at most \(maximum) properties, not \(object.count)")
        }
        if report.shouldStop { return }
        if report.listsEveryFailure {
            // Sorted, so that failures come in a stable order.
            for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                evaluateMember(name, value, node, JSONPointer.append(path, name), &report, depth)
            }
        } else {
            for (name, value) in object {
                evaluateMember(name, value, node, "", &report, depth)
                if report.shouldStop { return }
            }
        }
        for (name, schema) in node.dependentSchemas where object[name] != nil {
            evaluate(.object(object), schema, path, &report, depth + 1)
            if report.shouldStop { return }
        }
    }

    private func evaluateMember(
        _ name: String, _ value: JSONValue, _ node: SchemaNode, _ childPath: String, _ report: inout EvaluationReport,
        _ depth: Int
    ) {
        var matched = false
        if let schema = node.properties[name] {
            matched = true
            evaluate(value, schema, childPath, &report, depth + 1)
        }
        for (_, regex, schema) in node.patternProperties where regex.matches(name) {
            matched = true
            evaluate(value, schema, childPath, &report, depth + 1)
        }
        if !matched, let additional = node.additionalProperties {
            if additional.alwaysInvalid {
                report.fail(node, childPath, "additionalProperties", "is not an allowed property")
            } else {
                evaluate(value, additional, childPath, &report, depth + 1)
            }
        }
        if let names = node.propertyNames, !conforms(.string(name), to: names, depth: depth + 1) {
            report.fail(node, childPath, "propertyNames", "has a property name '\(name)' that is not allowed")
        }
    }

    private func evaluateArray(
        _ array: [JSONValue], _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport, _ depth: Int
    ) {
        if let minimum = node.minItems, array.count < minimum {
            report.fail(node, path, "minItems", "must have at least \(minimum) items, not \(array.count)")
        }
        if let maximum = node.maxItems, array.count > maximum {
            report.fail(node, path, "maxItems", "must have at most \(maximum) items, not \(array.count)")
        }
        if node.uniqueItems {
            outer: for first in array.indices {
                for second in array.indices where second > first && array[first] == array[second] {
                    report.fail(node, path, "uniqueItems", "must not repeat items (\(first) and \(second) are equal)")
                    break outer
                }
            }
        }
        if report.shouldStop { return }
        for (index, item) in array.enumerated() {
            let childPath = child(path, String(index), report)
            if index < node.prefixItems.count {
                evaluate(item, node.prefixItems[index], childPath, &report, depth + 1)
            } else if let items = node.items {
                evaluate(item, items, childPath, &report, depth + 1)
            }
            if report.shouldStop { return }
        }
        if let contains = node.contains {
            let count = array.filter { conforms($0, to: contains, depth: depth + 1) }.count
            let minimum = node.minContains ?? 1
            if count < minimum {
                report.fail(node, path, "contains", "must contain at least \(minimum) matching items, not \(count)")
            }
            if let maximum = node.maxContains, count > maximum {
                report.fail(node, path, "maxContains", "must contain at most \(maximum) matching items, not \(count)")
            }
        }
    }

    private func evaluateString(
        _ text: String, _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport
    ) {
        // Lengths count Unicode code points, as JSON Schema does.
        if node.minLength != nil || node.maxLength != nil {
            let utf8 = text.utf8
            let length = utf8.allSatisfy { $0 < 0x80 } ? utf8.count : text.unicodeScalars.count
            if let minimum = node.minLength, length < minimum {
                report.fail(node, path, "minLength", "must be at least \(minimum) characters long")
            }
            if let maximum = node.maxLength, length > maximum {
                report.fail(node, path, "maxLength", "must be at most \(maximum) characters long")
            }
        }
        if let pattern = node.pattern, !pattern.matches(text) {
            report.fail(node, path, "pattern", "must match the pattern \(pattern.source)")
        }
        if let format = node.format, let check = FormatChecks.check(format), !check(text) {
            report.fail(node, path, "format", "must be a valid \(format)")
        }
    }

    private func evaluateNumber(
        _ number: Double, _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport
    ) {
        if let minimum = node.minimum, number < minimum {
            report.fail(node, path, "minimum", "must be at least \(minimum.jsonNumber)")
        }
        if let maximum = node.maximum, number > maximum {
            report.fail(node, path, "maximum", "must be at most \(maximum.jsonNumber)")
        }
        if let minimum = node.exclusiveMinimum, number <= minimum {
            report.fail(node, path, "exclusiveMinimum", "must be more than \(minimum.jsonNumber)")
        }
        if let maximum = node.exclusiveMaximum, number >= maximum {
            report.fail(node, path, "exclusiveMaximum", "must be less than \(maximum.jsonNumber)")
        }
        if let divisor = node.multipleOf, !Self.isMultiple(number, of: divisor) {
            report.fail(node, path, "multipleOf", "must be a multiple of \(divisor.jsonNumber)")
        }
    }

    private func evaluateCombinators(
        _ instance: JSONValue, _ node: SchemaNode, _ path: String, _ report: inout EvaluationReport, _ depth: Int
    ) {
        for schema in node.allOf {
            evaluate(instance, schema, path, &report, depth + 1)
            if report.shouldStop { return }
        }
        if !node.anyOf.isEmpty, !node.anyOf.contains(where: { conforms(instance, to: $0, depth: depth + 1) }) {
            report.fail(node, path, "anyOf", "must match at least one of \(node.anyOf.count) schemas")
        }
        if !node.oneOf.isEmpty {
            var matching = 0
            for schema in node.oneOf where conforms(instance, to: schema, depth: depth + 1) {
                matching += 1
                if matching > 1 { break }
            }
            if matching != 1 {
                report.fail(node, path, "oneOf", "must match exactly one of \(node.oneOf.count) schemas, not \(matching)")
            }
        }
        if let not = node.not, conforms(instance, to: not, depth: depth + 1) {
            report.fail(node, path, "not", "must not match the schema at \(not.location)")
        }
        if let condition = node.ifSchema {
            let branch = conforms(instance, to: condition, depth: depth + 1) ? node.thenSchema : node.elseSchema
            if let branch { evaluate(instance, branch, path, &report, depth + 1) }
        }
    }

    /// Exact for decimal values (0.0075 is a multiple of 0.0001), which binary division is not.
    static func isMultiple(_ number: Double, of divisor: Double) -> Bool {
        guard divisor > 0, number.isFinite else { return false }
        let quotient = number / divisor
        if quotient.isFinite, quotient.rounded() == quotient, abs(quotient) < 1e15 { return true }
        if let value = Decimal(string: "\(number)"), let step = Decimal(string: "\(divisor)"),
            !value.isNaN, !step.isNaN, abs(number) < 1e30
        {
            var exact = value / step
            var rounded = Decimal()
            NSDecimalRound(&rounded, &exact, 0, .plain)
            return rounded == exact
        }
        return false
    }
}

extension Double {
    /// As JSON writes it: integers without a fraction.
    var jsonNumber: String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}
