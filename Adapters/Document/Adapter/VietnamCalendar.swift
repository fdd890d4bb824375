import Foundation
import GovBusContracts

/// Dates as Vietnamese documents carry them: the calendar day on Vietnam's clock (`HanoiClock`),
/// written dd/MM/yyyy in edXML.
enum VietnamCalendar {
    static func civilDate(of instant: Date) -> CivilDate {
        let (year, month, day) = HanoiClock.day(of: instant)
        return CivilDate(year: year, month: month, day: day)
    }

    static func edXMLDate(_ date: CivilDate) -> String {
        String(format: "%02d/%02d/%04d", date.day, date.month, date.year)
    }

    /// Nil unless `text` is a real day written dd/MM/yyyy.
    static func civilDate(edXML text: String) -> CivilDate? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, let day = Int(parts[0]), let month = Int(parts[1]),
            let year = Int(parts[2]), (1...12).contains(month), day >= 1, day <= HanoiClock.daysIn(month: month, year: year)
        else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }
}
