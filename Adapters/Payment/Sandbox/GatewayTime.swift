import Foundation
import GovBusContracts

/// The gateway's clock: `yyyyMMddHHmmss` in Vietnam's time (Asia/Ho_Chi_Minh, UTC+7).
enum GatewayTime {
    static func format(_ date: Date) -> String {
        HanoiClock.compact(date)
    }

    static func parse(_ text: String) -> Date? {
        HanoiClock.date(fromCompact: text)
    }
}
