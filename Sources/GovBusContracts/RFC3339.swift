public import Foundation

/// RFC 3339 timestamps read and written by hand. Foundation's ISO8601DateFormatter opens an ICU
/// formatter for each instance, which made date handling the largest single cost of decoding a
/// contract; this does the arithmetic on the characters instead: years 0001 to 9999 of the
/// Gregorian calendar, as RFC 3339 says, before 1582 too (where Foundation counts Julian days).
public enum RFC3339 {
    /// `yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:mm)`; `t` and `z` in lower case too (RFC 3339 § 5.6).
    /// Nil for anything else, an impossible day or time included.
    public static func date(from text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(Array($0)) }
    }

    private static func parse(_ bytes: [UInt8]) -> Date? {
        var position = 0
        func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                position += 1
            }
            return value
        }
        func expect(_ allowed: UInt8...) -> Bool {
            guard position < bytes.count, allowed.contains(bytes[position]) else { return false }
            position += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2), expect(UInt8(ascii: "T"), UInt8(ascii: "t")), let hour = digits(2),
            expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")), let second = digits(2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= HanoiClock.daysIn(month: month, year: year), hour < 24,
            minute < 60, second < 60
        else { return nil }
        var fraction = 0.0
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            // Up to nanoseconds, as an integer over a power of ten: one rounding, not one per digit.
            var numerator = 0
            var denominator = 1
            let start = position
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                if denominator < 1_000_000_000 {
                    numerator = numerator * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                    denominator *= 10
                }
                position += 1
            }
            guard position > start else { return nil }
            fraction = Double(numerator) / Double(denominator)
        }
        var offset = 0
        if expect(UInt8(ascii: "Z"), UInt8(ascii: "z")) {
            offset = 0
        } else {
            guard position < bytes.count else { return nil }
            let sign = bytes[position]
            guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { return nil }
            position += 1
            guard let offsetHours = digits(2), expect(UInt8(ascii: ":")), let offsetMinutes = digits(2), offsetHours < 24,
                offsetMinutes < 60
            else { return nil }
            offset = (offsetHours * 3600 + offsetMinutes * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard position == bytes.count else { return nil }
        let seconds = HanoiClock.daysSinceEpoch(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// In UTC, `Z`, to the nearest millisecond, with the milliseconds only when there are some.
    public static func string(from date: Date) -> String {
        let total = Int((date.timeIntervalSince1970 * 1000).rounded())
        let milliseconds = ((total % 1000) + 1000) % 1000
        var seconds = (total - milliseconds) / 1000
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        seconds -= days * 86400
        let (year, month, day) = HanoiClock.civil(fromDaysSinceEpoch: days)
        var text = ""
        text.reserveCapacity(24)
        append(year, width: 4, to: &text)
        text += "-"
        append(month, width: 2, to: &text)
        text += "-"
        append(day, width: 2, to: &text)
        text += "T"
        append(seconds / 3600, width: 2, to: &text)
        text += ":"
        append(seconds / 60 % 60, width: 2, to: &text)
        text += ":"
        append(seconds % 60, width: 2, to: &text)
        if milliseconds != 0 {
            text += "."
            append(milliseconds, width: 3, to: &text)
        }
        text += "Z"
        return text
    }

    private static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
}
