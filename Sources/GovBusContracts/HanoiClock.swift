public import Foundation

/// Times as Vietnamese systems write them, `yyyyMMddHHmmss` on Vietnam's clock (UTC+7, no daylight
/// saving since 1975), computed by hand: a DateFormatter per call opened an ICU formatter each
/// time, and a shared one is not safe across threads.
public enum HanoiClock {
    /// Vietnam's offset from UTC.
    public static let offset = 7 * 3600

    /// The calendar day it is in Vietnam at `date`.
    public static func day(of date: Date) -> (year: Int, month: Int, day: Int) {
        civil(fromDaysSinceEpoch: localDays(date).days)
    }

    /// Days since 1970-01-01 on Vietnam's clock, and the seconds into that day.
    private static func localDays(_ date: Date) -> (days: Int, seconds: Int) {
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + offset
        let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
        return (days, local - days * 86400)
    }

    public static func compact(_ date: Date) -> String {
        let (days, seconds) = localDays(date)
        let (year, month, day) = civil(fromDaysSinceEpoch: days)
        var text = ""
        text.reserveCapacity(14)
        for (value, width) in [(year, 4), (month, 2), (day, 2), (seconds / 3600, 2), (seconds / 60 % 60, 2), (seconds % 60, 2)] {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        return text
    }

    /// Nil unless `text` is 14 digits naming a real time (no 31 November, no hour 24).
    public static func date(fromCompact text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count == 14, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int {
            digits[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        let (year, month, day) = (number(0..<4), number(4..<6), number(6..<8))
        let (hour, minute, second) = (number(8..<10), number(10..<12), number(12..<14))
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year), hour < 24, minute < 60,
            second < 60
        else { return nil }
        let local = daysSinceEpoch(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: Double(local - offset))
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    public static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public static func civil(fromDaysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
