import Foundation
import GovBusContracts

/// Dates as Vietnamese documents carry them: the calendar day in Asia/Ho_Chi_Minh (UTC+7, no
/// daylight saving), written dd/MM/yyyy in edXML.
enum VietnamCalendar {
    static let timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 7 * 3600)!

    static func civilDate(of instant: Date) -> CivilDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return CivilDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0)
    }

    static func edXMLDate(_ date: CivilDate) -> String {
        String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
    }

    /// Nil unless `text` is a real day written dd/MM/yyyy.
    static func civilDate(edXML text: String) -> CivilDate? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let day = Int(parts[0]), let month = Int(parts[1]),
            let year = Int(parts[2])
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar) else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }
}
