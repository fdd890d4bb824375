import Foundation
import Testing

@testable import GovBus

/// The fast matcher agrees with ICU's (NSRegularExpression) on the patterns it accepts, and refuses
/// the ones it does not know, so that they go to ICU.
@Suite("Simple regular expressions")
struct SimpleRegexTests {
    static let patterns = [
        "^[0-9]{12}$", "^[A-Z0-9.-]{6,40}$", "^[0-9]{1,2}\\.[0-9]{6}$", "^[0-9A-Z]{2,3}(\\.[0-9A-Z]{2,3}){0,4}$",
        "^\\S+( \\S+)*$", "^(\\+84|0)[0-9]{9,10}$", "^[a-z]+/[a-z0-9.+-]+$", "^https://", "^[A-ZĐ0-9]+(-[A-ZĐ0-9]+)*$",
        "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", "a+b?c*", "^a*$", "[^x-z]{2}", "^$",
        "f.o", "\\d\\w\\s", "^[\\d-]+$", "(ab|cd)+$", "x{2,}",
    ]
    static let texts = [
        "", "001188012345", "00118801234", "G22.99-251121-0001", "1.001193", "000.22.99.H56", "Nguyễn Thị Mai",
        "Nguyễn  Mai", "0912345678", "+84905123456", "application/pdf", "https://x.vn", "http://x.vn", "QĐ-UBND",
        "qđ-ubnd", "QUJD", "QUI=", "QU==", "abc", "aabbcc", "aaa", "abbb", "fxo", "f\no", "1a ", "12-3", "abcdab",
        "xxx", "x", "💩💩",
    ]

    @Test("Same answers as NSRegularExpression")
    func agrees() throws {
        for pattern in Self.patterns {
            let simple = try SimpleRegex(pattern)
            let icu = try NSRegularExpression(pattern: pattern)
            for text in Self.texts {
                let expected = icu.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(simple.matches(text) == expected, "pattern \(pattern) on '\(text)'")
            }
        }
    }

    @Test("$ is the end of the text only, as ECMA-262 says (ICU also matches before a final line break)")
    func endOfText() throws {
        #expect(try !SimpleRegex("^ab$").matches("ab\n"))
        #expect(try !SimpleRegex("^ab$").matches("ab\u{2028}"))
        #expect(try SimpleRegex("^ab$").matches("ab"))
    }

    @Test("Look-arounds, back-references, lazy quantifiers, \\b and \\p go to ICU")
    func refuses() {
        for pattern in ["(?=a)b", "(a)\\1", "a+?", "\\bword", "\\p{L}+", "a{2", "[\\D]"] {
            #expect(throws: SimpleRegex.Unsupported.self, "\(pattern)") { try SimpleRegex(pattern) }
        }
    }
}
