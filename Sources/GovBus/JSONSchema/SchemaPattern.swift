import Foundation

/// A `pattern` or `patternProperties` regular expression, compiled once.
final class SchemaPattern: Sendable {
    let source: String
    /// The fast matcher when it understands the pattern, else ICU's through Foundation.
    private let simple: SimpleRegex?
    private let regex: NSRegularExpression

    init(_ source: String, at location: String) throws(JSONSchemaCompileError) {
        self.source = source
        do {
            regex = try NSRegularExpression(pattern: source)
        } catch {
            throw JSONSchemaCompileError("the pattern '\(source)' at \(location) is not a valid regular expression")
        }
        simple = try? SimpleRegex(source)
    }

    /// Whether the pattern matches somewhere in `text` (patterns are not anchored).
    func matches(_ text: String) -> Bool {
        if let simple { return simple.matches(text) }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
