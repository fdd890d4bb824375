import Foundation

/// `format` as an assertion: the formats GovBus messages use. Unknown formats pass, as the
/// specification says.
enum FormatChecks {
    static func check(_ format: String) -> ((String) -> Bool)? {
        switch format {
        case "date": isDate
        case "date-time": isDateTime
        case "time": isTime
        case "email": isEmail
        case "uuid": isUUID
        case "uri": isURI
        default: nil
        }
    }

    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    /// RFC 3339 full-date: yyyy-mm-dd with a day that exists in that month.
    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = digits(parts[0]), let month = digits(parts[1]), let day = digits(parts[2]),
            (1...12).contains(month), day >= 1
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// RFC 3339 full-time: hh:mm:ss[.frac] then Z or ±hh:mm. A leap second (60) only at 23:59 UTC.
    static func isTime(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.count >= 9, characters[2] == ":", characters[5] == ":" else { return false }
        guard let hour = digits(Substring(String(characters[0..<2]))),
            let minute = digits(Substring(String(characters[3..<5]))),
            let second = digits(Substring(String(characters[6..<8])))
        else { return false }
        var index = 8
        if index < characters.count, characters[index] == "." {
            index += 1
            let start = index
            while index < characters.count, characters[index].isASCII, characters[index].isNumber { index += 1 }
            if index == start { return false }
        }
        guard index < characters.count else { return false }
        var offsetMinutes = 0
        let zone = String(characters[index...])
        if zone == "Z" || zone == "z" {
            offsetMinutes = 0
        } else {
            let zoneCharacters = Array(zone)
            guard zoneCharacters.count == 6, zoneCharacters[0] == "+" || zoneCharacters[0] == "-",
                zoneCharacters[3] == ":",
                let offsetHour = digits(Substring(String(zoneCharacters[1..<3]))),
                let offsetMinute = digits(Substring(String(zoneCharacters[4..<6]))),
                offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (zoneCharacters[0] == "+" ? 1 : -1)
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        if second == 60 {
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func isDateTime(_ text: String) -> Bool {
        guard let separator = text.firstIndex(where: { $0 == "T" || $0 == "t" }) else { return false }
        return isDate(String(text[..<separator])) && isTime(String(text[text.index(after: separator)...]))
    }

    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) && $0.allSatisfy(\.isASCII) }
    }

    /// An address as RFC 5321 allows in a mailbox: a dot-atom or quoted local part, then a host
    /// name or an address literal.
    static func isEmail(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, !domain.isEmpty, local.allSatisfy(\.isASCII) else { return false }
        if local.hasPrefix("\"") {
            guard local.count >= 2, local.hasSuffix("\"") else { return false }
        } else {
            let atext = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "!#$%&'*+-/=?^_`{|}~"))
            let atoms = local.split(separator: ".", omittingEmptySubsequences: false)
            guard atoms.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy { atext.contains($0) } })
            else { return false }
        }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]") else { return false }
            let literal = domain.dropFirst().dropLast()
            if literal.hasPrefix("IPv6:") { return isIPv6(String(literal.dropFirst(5))) }
            return isIPv4(String(literal))
        }
        return isHostname(String(domain))
    }

    static func isHostname(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard let value = digits(part), part.count <= 3, value <= 255 else { return false }
                return part.count == 1 || !part.hasPrefix("0")
            }
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = Substring(text)
        var groupsAllowed = 8
        if let lastColon = address.lastIndex(of: ":"), address[address.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(address[address.index(after: lastColon)...])) else { return false }
            address = address[...lastColon]
            if address.hasSuffix(":") && !address.hasSuffix("::") { address = address.dropLast() }
            groupsAllowed = 6
        }
        let halves = address.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        let groups = halves.flatMap { $0.isEmpty ? [] : $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
        guard groups.allSatisfy({ (1...4).contains($0.count) && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return halves.count == 2 ? groups.count < groupsAllowed : groups.count == groupsAllowed
    }

    /// An absolute URI (RFC 3986): a scheme, then only characters a URI may hold, percent-escapes
    /// complete, a numeric port, and brackets only around an IP literal host.
    static func isURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":") else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return false }
        let allowed = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%")
        let rest = text[text.index(after: colon)...]
        guard rest.unicodeScalars.allSatisfy({ allowed.contains($0) }) else { return false }
        var scalars = Array(rest.unicodeScalars)[...]
        while let percent = scalars.firstIndex(of: "%") {
            let escape = scalars.dropFirst(percent - scalars.startIndex + 1).prefix(2)
            guard escape.count == 2, escape.allSatisfy({ $0.properties.isASCIIHexDigit }) else { return false }
            scalars = scalars[(percent + 3)...]
        }
        guard rest.hasPrefix("//") else { return !rest.contains("[") && !rest.contains("]") }
        let afterSlashes = rest.dropFirst(2)
        let authority = afterSlashes.prefix { !"/?#".contains($0) }
        let path = afterSlashes.dropFirst(authority.count)
        if path.contains("[") || path.contains("]") { return false }
        var host = authority
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            if userinfo.contains("[") || userinfo.contains("]") { return false }
            host = authority[authority.index(after: at)...]
        }
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let literal = host[host.index(after: host.startIndex)..<close]
            guard isIPv6(String(literal)) || literal.hasPrefix("v") else { return false }
            let port = host[host.index(after: close)...]
            return port.isEmpty || (port.hasPrefix(":") && port.dropFirst().allSatisfy { $0.isASCII && $0.isNumber })
        }
        if host.contains("[") || host.contains("]") { return false }
        if let portColon = host.lastIndex(of: ":") {
            return host[host.index(after: portColon)...].allSatisfy { $0.isASCII && $0.isNumber }
        }
        return true
    }
}
