/// A backtracking matcher for the regular expressions schemas use most: anchors, literals, `.`,
/// classes with ranges, `\d \w \s` and their negations, groups, alternation and greedy quantifiers,
/// with ECMA-262 meanings, matched over Unicode code points. It is many times faster than
/// NSRegularExpression on Linux, which copies every string to UTF-16 first. Anything else (look-
/// arounds, back-references, lazy quantifiers, `\b`, `\p{...}`) is refused at parse time, and
/// `SchemaPattern` then falls back to NSRegularExpression.
struct SimpleRegex: Sendable {
    struct Unsupported: Error {}

    struct ScalarSet: Sendable {
        var ranges: [ClosedRange<UInt32>] = []
        var negated = false
        /// The ASCII members as bits, filled by `finished()`, so that most tests are one shift.
        private var low: UInt64 = 0
        private var high: UInt64 = 0

        init(ranges: [ClosedRange<UInt32>] = [], negated: Bool = false) {
            self.ranges = ranges
            self.negated = negated
        }

        func finished() -> ScalarSet {
            var set = self
            for scalar in UInt32(0)..<128 where ranges.contains(where: { $0.contains(scalar) }) {
                if scalar < 64 { set.low |= 1 << scalar } else { set.high |= 1 << (scalar - 64) }
            }
            return set
        }

        @inline(__always)
        func contains(_ scalar: UInt32) -> Bool {
            if scalar < 64 { return (low >> scalar) & 1 == 1 ? !negated : negated }
            if scalar < 128 { return (high >> (scalar - 64)) & 1 == 1 ? !negated : negated }
            var found = false
            for range in ranges where range.contains(scalar) {
                found = true
                break
            }
            return found != negated
        }
    }

    /// A pattern that is only anchors and (repeated) classes, such as `^[0-9]{12}$`: matched by a
    /// plain loop, without closures.
    private struct LinearItem: Sendable {
        let set: ScalarSet
        let minimum: Int
        let maximum: Int
    }

    indirect enum Node: Sendable {
        case set(ScalarSet)
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, minimum: Int, maximum: Int)
        case start
        case end
    }

    private let root: Node
    private let anchoredAtStart: Bool
    private let linear: (items: [LinearItem], anchoredAtEnd: Bool)?

    init(_ pattern: String) throws(Unsupported) {
        var parser = Parser(Array(pattern.unicodeScalars.map(\.value)))
        root = try parser.parseAlternation()
        guard parser.atEnd else { throw Unsupported() }
        var nodes: [Node]
        if case .sequence(let sequence) = root { nodes = sequence } else { nodes = [root] }
        anchoredAtStart = if case .start? = nodes.first { true } else { false }
        linear = Self.linearForm(nodes)
    }

    private static func linearForm(_ nodes: [Node]) -> (items: [LinearItem], anchoredAtEnd: Bool)? {
        var nodes = nodes[...]
        guard case .start? = nodes.first else { return nil }
        nodes = nodes.dropFirst()
        var anchoredAtEnd = false
        if case .end? = nodes.last {
            anchoredAtEnd = true
            nodes = nodes.dropLast()
        }
        var items: [LinearItem] = []
        for node in nodes {
            switch node {
            case .set(let set): items.append(LinearItem(set: set, minimum: 1, maximum: 1))
            case .repetition(.set(let set), let minimum, let maximum):
                items.append(LinearItem(set: set, minimum: minimum, maximum: maximum))
            default: return nil
            }
        }
        return (items, anchoredAtEnd)
    }

    /// Whether the expression matches somewhere in `text`.
    func matches(_ text: String) -> Bool {
        if let linear {
            var utf8 = text
            let ascii: Bool? = utf8.withUTF8 { bytes in
                guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
                return Self.matchLinear(linear.items[...], 0, bytes, linear.anchoredAtEnd)
            }
            if let ascii { return ascii }
            return Self.matchLinear(linear.items[...], 0, text.unicodeScalars.map(\.value), linear.anchoredAtEnd)
        }
        let scalars = text.unicodeScalars.map(\.value)
        if anchoredAtStart { return match(root, 0, scalars) { _ in true } }
        for start in 0...scalars.count where match(root, start, scalars, { _ in true }) {
            return true
        }
        return false
    }

    /// Each item takes as many characters as it may, then gives them back one at a time while the
    /// rest does not match.
    private static func matchLinear<Text: RandomAccessCollection>(
        _ items: ArraySlice<LinearItem>, _ index: Int, _ text: Text, _ anchoredAtEnd: Bool
    ) -> Bool where Text.Element: BinaryInteger, Text.Index == Int {
        guard let item = items.first else { return !anchoredAtEnd || index == text.count }
        var end = index
        while end < text.count, end - index < item.maximum, item.set.contains(UInt32(text[end])) { end += 1 }
        guard end - index >= item.minimum else { return false }
        if items.count == 1, !anchoredAtEnd || end == text.count { return true }
        var position = end
        while position >= index + item.minimum {
            if matchLinear(items.dropFirst(), position, text, anchoredAtEnd) { return true }
            position -= 1
        }
        return false
    }

    private func match(_ node: Node, _ index: Int, _ text: [UInt32], _ next: (Int) -> Bool) -> Bool {
        switch node {
        case .set(let set):
            return index < text.count && set.contains(text[index]) && next(index + 1)
        case .start:
            return index == 0 && next(index)
        case .end:
            return index == text.count && next(index)
        case .sequence(let nodes):
            return matchSequence(nodes[...], index, text, next)
        case .alternation(let options):
            for option in options where match(option, index, text, next) { return true }
            return false
        case .repetition(.set(let set), let minimum, let maximum):
            // A repeated class: take as many as allowed, then give back one at a time.
            var end = index
            while end < text.count, end - index < maximum, set.contains(text[end]) { end += 1 }
            guard end - index >= minimum else { return false }
            var position = end
            while position >= index + minimum {
                if next(position) { return true }
                position -= 1
            }
            return false
        case .repetition(let inner, let minimum, let maximum):
            return matchRepetition(inner, minimum, maximum, 0, index, text, next)
        }
    }

    private func matchSequence(_ nodes: ArraySlice<Node>, _ index: Int, _ text: [UInt32], _ next: (Int) -> Bool) -> Bool {
        guard let first = nodes.first else { return next(index) }
        return match(first, index, text) { matchSequence(nodes.dropFirst(), $0, text, next) }
    }

    private func matchRepetition(
        _ node: Node, _ minimum: Int, _ maximum: Int, _ count: Int, _ index: Int, _ text: [UInt32],
        _ next: (Int) -> Bool
    ) -> Bool {
        if count < maximum {
            let more = match(node, index, text) { after in
                // An empty match cannot make progress: stop repeating there.
                after != index && matchRepetition(node, minimum, maximum, count + 1, after, text, next)
            }
            if more { return true }
        }
        return count >= minimum && next(index)
    }

    // MARK: Parsing

    private struct Parser {
        let pattern: [UInt32]
        var position = 0

        init(_ pattern: [UInt32]) {
            self.pattern = pattern
        }

        var atEnd: Bool { position >= pattern.count }

        private func peek(_ offset: Int = 0) -> Character? {
            let at = position + offset
            guard at < pattern.count, let scalar = Unicode.Scalar(pattern[at]) else { return nil }
            return Character(scalar)
        }

        mutating func parseAlternation() throws(Unsupported) -> Node {
            var options = [try parseSequence()]
            while peek() == "|" {
                position += 1
                options.append(try parseSequence())
            }
            return options.count == 1 ? options[0] : .alternation(options)
        }

        private mutating func parseSequence() throws(Unsupported) -> Node {
            var nodes: [Node] = []
            while let character = peek(), character != "|", character != ")" {
                var atom: Node
                switch character {
                case "^":
                    position += 1
                    atom = .start
                case "$":
                    position += 1
                    atom = .end
                case "(":
                    position += 1
                    if peek() == "?" {
                        guard peek(1) == ":" else { throw Unsupported() }
                        position += 2
                    }
                    atom = try parseAlternation()
                    guard peek() == ")" else { throw Unsupported() }
                    position += 1
                case ".":
                    position += 1
                    atom = .set(ScalarSet(ranges: [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029], negated: true).finished())
                case "[":
                    position += 1
                    atom = .set(try parseClass().finished())
                case "\\":
                    position += 1
                    atom = .set(try parseEscape(inClass: false).finished())
                case "*", "+", "?", "{", "}", "]":
                    throw Unsupported()
                default:
                    position += 1
                    atom = .set(ScalarSet(ranges: [pattern[position - 1]...pattern[position - 1]]).finished())
                }
                atom = try parseQuantifier(atom)
                nodes.append(atom)
            }
            return nodes.count == 1 ? nodes[0] : .sequence(nodes)
        }

        private mutating func parseQuantifier(_ atom: Node) throws(Unsupported) -> Node {
            var minimum: Int
            var maximum: Int
            switch peek() {
            case "*":
                (minimum, maximum) = (0, .max)
                position += 1
            case "+":
                (minimum, maximum) = (1, .max)
                position += 1
            case "?":
                (minimum, maximum) = (0, 1)
                position += 1
            case "{":
                position += 1
                minimum = try parseNumber()
                maximum = minimum
                if peek() == "," {
                    position += 1
                    maximum = peek() == "}" ? .max : try parseNumber()
                }
                guard peek() == "}", maximum >= minimum else { throw Unsupported() }
                position += 1
            default:
                return atom
            }
            if peek() == "?" || peek() == "+" { throw Unsupported() }  // lazy or possessive
            if case .start = atom { throw Unsupported() }
            if case .end = atom { throw Unsupported() }
            return .repetition(atom, minimum: minimum, maximum: maximum)
        }

        private mutating func parseNumber() throws(Unsupported) -> Int {
            var value = 0
            var digits = 0
            while let character = peek(), let digit = character.wholeNumberValue, character.isASCII {
                value = value * 10 + digit
                digits += 1
                position += 1
                guard value < 100_000 else { throw Unsupported() }
            }
            guard digits > 0 else { throw Unsupported() }
            return value
        }

        private mutating func parseClass() throws(Unsupported) -> ScalarSet {
            var set = ScalarSet()
            if peek() == "^" {
                set.negated = true
                position += 1
            }
            var first = true
            while let character = peek(), character != "]" || first && false {
                first = false
                var low: UInt32
                if character == "\\" {
                    position += 1
                    let escaped = try parseEscape(inClass: true)
                    guard !escaped.negated else { throw Unsupported() }
                    if escaped.ranges.count != 1 || escaped.ranges[0].count != 1 {
                        set.ranges += escaped.ranges
                        continue
                    }
                    low = escaped.ranges[0].lowerBound
                } else {
                    low = pattern[position]
                    position += 1
                }
                if peek() == "-", let after = peek(1), after != "]" {
                    position += 1
                    var high: UInt32
                    if after == "\\" {
                        position += 1
                        let escaped = try parseEscape(inClass: true)
                        guard escaped.ranges.count == 1, escaped.ranges[0].count == 1, !escaped.negated else {
                            throw Unsupported()
                        }
                        high = escaped.ranges[0].lowerBound
                    } else {
                        high = pattern[position]
                        position += 1
                    }
                    guard low <= high else { throw Unsupported() }
                    set.ranges.append(low...high)
                } else {
                    set.ranges.append(low...low)
                }
            }
            guard peek() == "]" else { throw Unsupported() }
            position += 1
            return set
        }

        /// After a backslash: a class escape, a control escape or an escaped literal.
        private mutating func parseEscape(inClass: Bool) throws(Unsupported) -> ScalarSet {
            guard let character = peek() else { throw Unsupported() }
            position += 1
            let digits: [ClosedRange<UInt32>] = [0x30...0x39]
            let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
            // ECMA-262 WhiteSpace and LineTerminator.
            let space: [ClosedRange<UInt32>] = [
                0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
                0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
            ]
            func literal(_ value: UInt32) -> ScalarSet { ScalarSet(ranges: [value...value]) }
            switch character {
            case "d": return ScalarSet(ranges: digits)
            case "D": return ScalarSet(ranges: digits, negated: true)
            case "w": return ScalarSet(ranges: word)
            case "W": return ScalarSet(ranges: word, negated: true)
            case "s": return ScalarSet(ranges: space)
            case "S": return ScalarSet(ranges: space, negated: true)
            case "t": return literal(0x09)
            case "n": return literal(0x0A)
            case "r": return literal(0x0D)
            case "f": return literal(0x0C)
            case "v": return literal(0x0B)
            case "u":
                var value: UInt32 = 0
                for _ in 0..<4 {
                    guard let hex = peek()?.hexDigitValue else { throw Unsupported() }
                    value = value * 16 + UInt32(hex)
                    position += 1
                }
                return literal(value)
            default:
                // Only punctuation stands for itself; letters and digits are escapes this matcher
                // does not know (\b, \p, \1, \k...).
                guard character.isASCII, !character.isLetter, !character.isNumber else { throw Unsupported() }
                return literal(pattern[position - 1])
            }
        }
    }
}
