import Foundation
import GovBusContracts

/// VNPay's times: `yyyyMMddHHmmss` on Vietnam's clock (Asia/Ho_Chi_Minh, UTC+7, no daylight
/// saving), whatever the server's own zone.
enum VNPayTime {
    static func format(_ date: Date) -> String {
        HanoiClock.compact(date)
    }

    /// nil unless `text` is 14 digits naming a real time.
    static func parse(_ text: String) -> Date? {
        HanoiClock.date(fromCompact: text)
    }
}
