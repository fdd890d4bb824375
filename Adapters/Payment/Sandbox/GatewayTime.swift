import Foundation

/// The gateway's clock: `yyyyMMddHHmmss` in Vietnam's time (Asia/Ho_Chi_Minh, UTC+7).
enum GatewayTime {
    private static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 7 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        formatter.isLenient = false
        return formatter
    }

    static func format(_ date: Date) -> String {
        formatter().string(from: date)
    }

    static func parse(_ text: String) -> Date? {
        guard text.count == 14 else { return nil }
        return formatter().date(from: text)
    }
}
