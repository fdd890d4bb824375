import GovBus
import Testing

@Suite("JSON Schema validator: errors and references")
struct JSONSchemaTests {
    let applicantSchema: JSONValue = try! JSONValue(
        parsing: """
            {
              "$id": "https://govbus.gov.vn/schemas/test.schema.json",
              "type": "object",
              "required": ["dossierId", "applicant"],
              "additionalProperties": false,
              "properties": {
                "dossierId": {"type": "string", "minLength": 6},
                "applicant": {"$ref": "common.schema.json#/$defs/applicant"},
                "fees": {"type": "array", "items": {"type": "integer", "minimum": 0}}
              }
            }
            """)
    let commonSchema: JSONValue = try! JSONValue(
        parsing: """
            {
              "$id": "https://govbus.gov.vn/schemas/common.schema.json",
              "$defs": {
                "personalId": {"type": "string", "pattern": "^[0-9]{12}$"},
                "applicant": {
                  "type": "object",
                  "required": ["personalId", "dateOfBirth"],
                  "properties": {
                    "personalId": {"$ref": "#/$defs/personalId"},
                    "dateOfBirth": {"type": "string", "format": "date"}
                  }
                }
              }
            }
            """)

    func compile() throws -> JSONSchema {
        try JSONSchema(
            applicantSchema, others: [(uri: "https://govbus.gov.vn/schemas/common.schema.json", schema: commonSchema)])
    }

    @Test("A valid instance has no errors; references across files resolve")
    func valid() throws {
        let schema = try compile()
        let instance = try JSONValue(
            parsing: ##"{"dossierId": "G22.99-251121-0001", "applicant": {"personalId": "001203004512", "dateOfBirth": "1990-02-28"}, "fees": [50000, 0]}"##)
        #expect(schema.validate(instance).isEmpty)
    }

    @Test("Every failure is listed, each with its instance path, keyword and schema path")
    func everyFailure() throws {
        let schema = try compile()
        let instance = try JSONValue(
            parsing: ##"{"dossierId": "G22", "applicant": {"personalId": "12345", "dateOfBirth": "1990-02-30"}, "fees": [1, -5, "x"], "extra": true}"##)
        let errors = schema.validate(instance)
        let found = Set(errors.map { "\($0.instancePath) \($0.keyword)" })
        #expect(
            found == [
                "/dossierId minLength", "/applicant/personalId pattern", "/applicant/dateOfBirth format",
                "/fees/1 minimum", "/fees/2 type", "/extra additionalProperties",
            ], "\(errors)")
        let pattern = try #require(errors.first { $0.keyword == "pattern" })
        #expect(pattern.schemaPath == "https://govbus.gov.vn/schemas/common.schema.json#/$defs/personalId/pattern")
        #expect(pattern.message.contains("^[0-9]{12}$"))
        let missing = schema.validate(try JSONValue(parsing: ##"{"applicant": {}}"##))
        #expect(Set(missing.map(\.message)).isSuperset(of: [
            "is missing the required property 'dossierId'", "is missing the required property 'personalId'",
        ]))
    }

    @Test("A schema that cannot compile says where and why")
    func compileErrors() {
        #expect {
            try JSONSchema(try JSONValue(parsing: ##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##))
        } throws: { error in
            "\(error)".contains("#/$defs/missing")
        }
        #expect {
            try JSONSchema(try JSONValue(parsing: ##"{"pattern": "([a-z"}"##))
        } throws: { error in
            "\(error)".contains("([a-z")
        }
        #expect {
            try JSONSchema(try JSONValue(parsing: ##"{"minLength": -1}"##))
        } throws: { error in
            "\(error)".contains("minLength")
        }
    }

    @Test("A recursive schema validates nested data and stops an endless reference loop")
    func recursion() throws {
        let tree = try JSONSchema(
            try JSONValue(
                parsing: ##"{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}, "required": ["name"]}"##))
        #expect(tree.isValid(try JSONValue(parsing: ##"{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}"##)))
        #expect(!tree.isValid(try JSONValue(parsing: ##"{"name": "a", "children": [{"children": []}]}"##)))
        let loop = try JSONSchema(try JSONValue(parsing: ##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##))
        #expect(!loop.isValid(.number(1)))
    }

    @Test("Numbers: 1.0 is an integer, decimal multiples are exact, strings count code points")
    func numbersAndStrings() throws {
        let schema = try JSONSchema(
            try JSONValue(
                parsing: ##"{"properties": {"n": {"type": "integer"}, "m": {"multipleOf": 0.01}, "s": {"maxLength": 2}}}"##))
        #expect(schema.isValid(try JSONValue(parsing: ##"{"n": 1.0, "m": 19.99, "s": "💩💩"}"##)))
        #expect(!schema.isValid(try JSONValue(parsing: ##"{"n": 1.5}"##)))
        #expect(!schema.isValid(try JSONValue(parsing: ##"{"m": 19.999}"##)))
        #expect(!schema.isValid(try JSONValue(parsing: ##"{"s": "abc"}"##)))
    }
}
