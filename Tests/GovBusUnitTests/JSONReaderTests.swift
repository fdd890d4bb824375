import Foundation
import GovBus
import Testing

@Suite("JSON reader: UTF-8 bytes straight into JSONValue")
struct JSONReaderTests {
    func parse(_ text: String) throws -> JSONValue {
        try JSONValue(parsingUTF8: Array(text.utf8))
    }

    @Test("reads every kind of value, nested")
    func readsValues() throws {
        let value = try parse(#" {"a": [1, -2.5, 3e2, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(
            value
                == .object([
                    "a": .array([.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null]),
                    "b": .object(["c": .string("d")]), "e": .string(""),
                ]))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse("-0") == .number(0))
    }

    @Test("agrees with Foundation on numbers, including ones no Double holds exactly")
    func numbers() throws {
        for text in [
            "0", "7", "-12", "123456789012345", "1234567890123456789", "9007199254740993", "0.1", "1.5e-7", "2E+10",
            "-0.000001", "1e308", "4.9e-324", "12345678910111213141516171819202122232425262728293031",
        ] {
            let expected = try #require(Double(text))
            #expect(try parse(text) == .number(expected), "\(text)")
        }
    }

    @Test("decodes escapes, surrogate pairs and multi-byte UTF-8")
    func strings() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u4e2d""#) == .string("Aé中"))
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try parse(#""Nguyễn Văn A""#) == .string("Nguyễn Văn A"))
        #expect(try parse(#""x\u0000y""#) == .string("x\u{0}y"))
    }

    @Test("refuses what is not JSON, naming the byte", arguments: [
        "", " ", "[1,]", "{\"a\":1,}", "[1 2]", "01", "-", "1.", "1e", ".5", "+1", "tru", "nul", "\"abc", "'a'",
        "{a:1}", "[1]]", "{\"a\" 1}", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"tab\there\"", "NaN", "Infinity", "[1] x",
    ])
    func refusesInvalid(_ text: String) {
        #expect(throws: (any Error).self, "\(text)") { try parse(text) }
    }

    @Test("refuses a key that appears twice in one object, which two readers could read differently")
    func duplicateKeys() throws {
        let error = try #require(throws: (any Error).self) { try parse(#"{"fee": 1, "fee": 1000000}"#) }
        #expect("\(error)".contains("appears twice"))
        // The same key in two objects is fine.
        #expect(try parse(#"[{"a": 1}, {"a": 2}]"#) == .array([.object(["a": .number(1)]), .object(["a": .number(2)])]))
    }

    @Test("refuses bytes that are not UTF-8")
    func invalidUTF8() {
        #expect(throws: (any Error).self) { try JSONValue(parsingUTF8: [0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: (any Error).self) { try JSONValue(parsingUTF8: [0x22, 0xFF, 0x22]) }
        #expect(throws: (any Error).self) { try JSONValue(parsingUTF8: [0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test("refuses nesting deeper than 512 levels instead of exhausting the stack")
    func depth() throws {
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try parse(fine) }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(throws: (any Error).self) { try parse(deep) }
        #expect("\(error)".contains("nested more than 512"))
    }

    @Test("reads every schema and example of the catalogue as Foundation's decoder does")
    func agreesOnTheCatalogue() throws {
        let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Schemas")
        let files = try #require(FileManager.default.enumerator(at: schemas, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }
        #expect(files.count > 10)
        for file in files {
            let data = try Data(contentsOf: file)
            let foundation = try JSONDecoder().decode(JSONValue.self, from: data)
            #expect(try JSONValue(parsingUTF8: data) == foundation, "\(file.lastPathComponent)")
        }
    }
}
