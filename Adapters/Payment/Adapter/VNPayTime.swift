import Foundation

/// VNPay's times: `yyyyMMddHHmmss` on Vietnam's clock (Asia/Ho_Chi_Minh, UTC+7, no daylight
/// saving), whatever the server's own zone.
enum VNPayTime {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        // A fixed UTC+7 when the system has no time zone database: Vietnam has kept it since 1975.
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt
        return calendar
    }()

    static func format(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return [(parts.year, 4), (parts.month, 2), (parts.day, 2), (parts.hour, 2), (parts.minute, 2), (parts.second, 2)]
            .map { value, width in String(value ?? 0).zeroPadded(to: width) }
            .joined()
    }

    /// nil unless `text` is 14 digits naming a real time.
    static func parse(_ text: String) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count == 14, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        func number(_ range: Range<Int>) -> Int {
            digits[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        let components = DateComponents(
            year: number(0..<4), month: number(4..<6), day: number(6..<8),
            hour: number(8..<10), minute: number(10..<12), second: number(12..<14))
        // The calendar rolls 31 November over to 1 December: only a time that formats back is real.
        guard let date = calendar.date(from: components), format(date) == text else { return nil }
        return date
    }
}
