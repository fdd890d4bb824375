import Foundation
import GovBusContracts
import Testing

@Suite("Timestamps by hand: RFC 3339 and Hanoi's compact clock agree with Foundation's formatters")
struct TimestampTests {
    static func foundationParse(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return withFraction.date(from: text) ?? plain.date(from: text)
    }

    @Test("reads what ISO8601DateFormatter reads, to the same instant", arguments: [
        "2025-11-21T09:21:05+07:00", "2025-11-21T02:21:05Z", "2025-11-21T02:21:05.123Z", "2024-02-29T23:59:59-05:30",
        "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z", "2000-03-01T00:00:00+14:00", "1600-02-29T12:00:00Z",
        "9999-12-31T23:59:59Z", "2025-06-30T12:00:00.000001+07:00",
    ])
    func parses(_ text: String) throws {
        let expected = try #require(Self.foundationParse(text))
        let parsed = try #require(RFC3339.date(from: text))
        #expect(abs(parsed.timeIntervalSince1970 - expected.timeIntervalSince1970) < 0.000_002, "\(text)")
    }

    @Test("refuses what is not an RFC 3339 date-time with an offset", arguments: [
        "", "2025-11-21", "2025-11-21T09:21:05", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2025-04-31T00:00:00Z",
        "2025-11-21T24:00:00Z", "2025-11-21T23:60:00Z", "2025-11-21T23:59:60Z", "2025-11-21T09:21:05+7:00",
        "2025-11-21T09:21:05.Z", "2025-11-21 09:21:05Z", "2025-11-21T09:21:05Z ", "25-11-21T09:21:05Z",
        "2025-11-21T09:21:05+07:00x", "0000-01-01T00:00:00Z",
    ])
    func refuses(_ text: String) {
        #expect(RFC3339.date(from: text) == nil, "\(text)")
    }

    @Test("writes UTC with milliseconds only when there are some, as before")
    func formats() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        // (Foundation counts days before 1582 on the Julian calendar; RFC 3339 and this, on the Gregorian.)
        for seconds in [0.0, 1_763_691_665, -1, 253_402_300_799, 951_782_400, -11_676_096_000] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.string(from: date) == formatter.string(from: date), "\(seconds)")
        }
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 1_763_691_665.123)) == "2025-11-21T02:21:05.123Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -62_135_596_800)) == "0001-01-01T00:00:00Z")
        // A round trip keeps the milliseconds, whatever the Double does in between.
        for text in ["2025-11-21T02:21:05.001Z", "2025-11-21T02:21:05.999Z", "2025-11-21T02:21:05.123Z"] {
            #expect(RFC3339.string(from: try #require(RFC3339.date(from: text))) == text)
        }
    }

    @Test("Hanoi's compact clock is UTC+7, and refuses impossible times")
    func hanoi() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 7 * 3600)
        formatter.dateFormat = "yyyyMMddHHmmss"
        for seconds in [0.0, 1_763_691_665, 1_709_251_199, 946_684_800, 4_102_444_799] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(HanoiClock.compact(date) == formatter.string(from: date), "\(seconds)")
            #expect(HanoiClock.date(fromCompact: formatter.string(from: date)) == date)
        }
        #expect(HanoiClock.compact(Date(timeIntervalSince1970: 1_763_691_665)) == "20251121092105")
        for bad in ["20251131000000", "20250229120000", "20251121240000", "2025112109210", "2025112109210x", "202511210921055"] {
            #expect(HanoiClock.date(fromCompact: bad) == nil, "\(bad)")
        }
    }
}
