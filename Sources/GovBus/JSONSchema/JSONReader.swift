import Glibc

/// Reads JSON text (RFC 8259) straight from its UTF-8 bytes into a `JSONValue`: one pass, no
/// intermediate objects, which makes it several times cheaper than a `JSONDecoder` into the same
/// enum. Strict where a lenient reader would let two readers disagree about one message: a
/// duplicate object key, invalid UTF-8, a lone surrogate escape or a leading zero is an error, not
/// a guess. Nesting deeper than `maximumDepth` is refused, so that no body can exhaust the stack.
struct JSONReader {
    struct Failure: Error, Sendable, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The one JSON value the bytes hold, with nothing but white space around it.
    static func value(from bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.readValue()
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.failure("text after the value") }
        return value
    }

    private func failure(_ reason: String) -> Failure {
        Failure(offset: position, reason: reason)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func readValue() throws(Failure) -> JSONValue {
        guard let byte = current else { throw failure("a value was expected") }
        switch byte {
        case UInt8(ascii: "{"): return try readObject()
        case UInt8(ascii: "["): return try readArray()
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber())
        default: throw failure("unexpected character")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw failure("unexpected end of the text") }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] {
            throw failure("unexpected character")
        }
        position += count
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) deep") }
    }

    private mutating func readObject() throws(Failure) -> JSONValue {
        try enter()
        position += 1
        var object: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure("an object key (a string) was expected") }
            let keyOffset = position
            let key = try readString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw failure("':' was expected after an object key") }
            position += 1
            skipWhitespace()
            let value = try readValue()
            // Two readers could keep different copies of a repeated key: it is refused, not chosen.
            guard object.updateValue(value, forKey: key) == nil else {
                throw Failure(offset: keyOffset, reason: "the key \"\(key)\" appears twice in one object")
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return .object(object)
            default:
                throw failure("',' or '}' was expected")
            }
        }
    }

    private mutating func readArray() throws(Failure) -> JSONValue {
        try enter()
        position += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(array)
        }
        while true {
            array.append(try readValue())
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return .array(array)
            default:
                throw failure("',' or ']' was expected")
            }
        }
    }

    /// A string from its opening quote; the bytes must be valid UTF-8.
    private mutating func readString() throws(Failure) -> String {
        position += 1
        let start = position
        // The common case: no escapes, so the text is a slice of the input.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try decodeUTF8(start..<position)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw failure("a control character inside a string must be escaped") }
            position += 1
        }
        var unescaped = Array(bytes[start..<position])
        while true {
            guard let byte = current else { throw failure("the string is not closed") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let text = String(validating: unescaped, as: UTF8.self) else {
                    throw Failure(offset: start, reason: "the string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                position += 1
                try readEscape(into: &unescaped)
            case 0..<0x20:
                throw failure("a control character inside a string must be escaped")
            default:
                unescaped.append(byte)
                position += 1
            }
        }
    }

    private func decodeUTF8(_ range: Range<Int>) throws(Failure) -> String {
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw Failure(offset: range.lowerBound, reason: "the string is not valid UTF-8")
        }
        return text
    }

    private mutating func readEscape(into output: inout [UInt8]) throws(Failure) {
        guard let byte = current else { throw failure("the string is not closed") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try readHexQuad())
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw failure("a high surrogate escape must be followed by a low one") }
                position += 2
                let low = UInt32(try readHexQuad())
                guard (0xDC00...0xDFFF).contains(low) else { throw failure("a high surrogate escape must be followed by a low one") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw failure("a low surrogate escape without a high one")
            }
            // Every value left is a Unicode scalar: surrogates were paired or refused above.
            output.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            throw failure("an unknown escape")
        }
    }

    private mutating func readHexQuad() throws(Failure) -> UInt16 {
        guard position + 4 <= bytes.count else { throw failure("\\u needs four hexadecimal digits") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("\\u needs four hexadecimal digits")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }

    /// A number per the JSON grammar. Integers of up to 15 digits are computed exactly; any other
    /// number is converted from its text by `strtod`, which rounds correctly to the nearest Double.
    private mutating func readNumber() throws(Failure) -> Double {
        let start = position
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw failure("a digit was expected")
        }
        var integer: Int64 = 0
        var digits = 0
        if first == UInt8(ascii: "0") {
            position += 1
            if let next = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                throw failure("a number must not start with 0")
            }
        } else {
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                if digits < 18 { integer = integer * 10 + Int64(byte - UInt8(ascii: "0")) }
                digits += 1
                position += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            try skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            try skipDigits()
        }
        if isInteger, digits <= 15 {
            return negative ? -Double(integer) : Double(integer)
        }
        return convert(start..<position)
    }

    private mutating func skipDigits() throws(Failure) {
        guard let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
            throw failure("a digit was expected")
        }
        while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
    }

    /// The grammar was checked already; strtod needs the text NUL-terminated, and reads it in the
    /// C locale's format, which JSON's is.
    private func convert(_ range: Range<Int>) -> Double {
        var text = Array(bytes[range])
        text.append(0)
        return text.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { strtod($0.baseAddress!, nil) }
        }
    }
}

extension JSONValue {
    /// Parses JSON text from its UTF-8 bytes (see `JSONReader` for what is refused).
    public init(parsingUTF8 bytes: some Collection<UInt8>) throws {
        let parsed = try bytes.withContiguousStorageIfAvailable { try JSONReader.value(from: $0) }
        if let parsed {
            self = parsed
        } else {
            self = try Array(bytes).withUnsafeBufferPointer { try JSONReader.value(from: $0) }
        }
    }
}
