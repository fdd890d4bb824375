/// `format` as an assertion: the formats GovBus messages use, checked on the UTF-8 bytes (these
/// formats are ASCII). Unknown formats pass, as the specification says.
enum FormatChecks {
    static func check(_ format: String) -> ((String) -> Bool)? {
        switch format {
        case "date": { isDate(Array($0.utf8)[...]) }
        case "date-time": { isDateTime(Array($0.utf8)) }
        case "time": { isTime(Array($0.utf8)[...]) }
        case "email": { isEmail(Array($0.utf8)) }
        case "uuid": { isUUID(Array($0.utf8)) }
        case "uri": { isURI(Array($0.utf8)) }
        default: nil
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }

    /// The number written by `count` ASCII digits at `start`, or nil.
    private static func number(_ bytes: ArraySlice<UInt8>, _ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.endIndex else { return nil }
        var value = 0
        for byte in bytes[start..<start + count] {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }

    /// RFC 3339 full-date: yyyy-mm-dd with a day that exists in that month.
    static func isDate(_ bytes: ArraySlice<UInt8>) -> Bool {
        let start = bytes.startIndex
        guard bytes.count == 10, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
            let year = number(bytes, start, 4), let month = number(bytes, start + 5, 2),
            let day = number(bytes, start + 8, 2), (1...12).contains(month), day >= 1
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= lengths[month - 1]
    }

    /// RFC 3339 full-time: hh:mm:ss[.frac] then Z or ±hh:mm. A leap second (60) only at 23:59 UTC.
    static func isTime(_ bytes: ArraySlice<UInt8>) -> Bool {
        let start = bytes.startIndex
        guard bytes.count >= 9, bytes[start + 2] == UInt8(ascii: ":"), bytes[start + 5] == UInt8(ascii: ":"),
            let hour = number(bytes, start, 2), let minute = number(bytes, start + 3, 2),
            let second = number(bytes, start + 6, 2)
        else { return false }
        var index = start + 8
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.endIndex, isDigit(bytes[index]) { index += 1 }
            if index == fractionStart { return false }
        }
        guard index < bytes.endIndex else { return false }
        var offsetMinutes = 0
        let zone = bytes[index]
        if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
            guard index + 1 == bytes.endIndex else { return false }
        } else {
            guard zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-"), bytes.endIndex - index == 6,
                bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHour = number(bytes, index + 1, 2), let offsetMinute = number(bytes, index + 4, 2),
                offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (zone == UInt8(ascii: "+") ? 1 : -1)
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        if second == 60 {
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static func isDateTime(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 11, bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") else { return false }
        return isDate(bytes[0..<10]) && isTime(bytes[11...])
    }

    static func isUUID(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !isHex(byte) {
                return false
            }
        }
        return true
    }

    /// An address as RFC 5321 allows in a mailbox: a dot-atom or quoted local part, then a host
    /// name or an address literal.
    static func isEmail(_ bytes: [UInt8]) -> Bool {
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard !local.isEmpty, !domain.isEmpty, local.allSatisfy({ $0 < 0x80 }) else { return false }
        if local.first == UInt8(ascii: "\"") {
            guard local.count >= 2, local.last == UInt8(ascii: "\"") else { return false }
        } else {
            let atext = Array("!#$%&'*+-/=?^_`{|}~".utf8)
            let atoms = local.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
            guard atoms.allSatisfy({ atom in
                !atom.isEmpty && atom.allSatisfy { isLetter($0) || isDigit($0) || atext.contains($0) }
            }) else { return false }
        }
        if domain.first == UInt8(ascii: "[") {
            guard domain.last == UInt8(ascii: "]") else { return false }
            let literal = String(decoding: domain.dropFirst().dropLast(), as: UTF8.self)
            if literal.hasPrefix("IPv6:") { return isIPv6(String(literal.dropFirst(5))) }
            return isIPv4(literal)
        }
        return isHostname(domain)
    }

    static func isHostname(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                guard (1...3).contains(part.count), part.utf8.allSatisfy(isDigit), let value = Int(part), value <= 255
                else { return false }
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
        var halves: [Substring] = []
        var rest = address
        while let range = rest.firstRange(of: "::") {
            halves.append(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
        }
        halves.append(rest)
        guard halves.count <= 2 else { return false }
        let groups = halves.flatMap { $0.isEmpty ? [] : $0.split(separator: ":", omittingEmptySubsequences: false) }
        guard groups.allSatisfy({ (1...4).contains($0.count) && $0.utf8.allSatisfy(isHex) }) else { return false }
        return halves.count == 2 ? groups.count < groupsAllowed : groups.count == groupsAllowed
    }

    /// What a URI may hold outside an IP literal: RFC 3986 unreserved, sub-delims, ":/?#@" and "%".
    private static let uriByte: [Bool] = {
        var allowed = [Bool](repeating: false, count: 256)
        for byte in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%".utf8 {
            allowed[Int(byte)] = true
        }
        return allowed
    }()

    /// An absolute URI (RFC 3986): a scheme, then only characters a URI may hold, percent-escapes
    /// complete, a numeric port, and brackets only around an IP literal host.
    static func isURI(_ bytes: [UInt8]) -> Bool {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0, isLetter(bytes[0]),
            bytes[..<colon].allSatisfy({ isLetter($0) || isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { return false }
        var index = colon + 1
        while index < bytes.count {
            let byte = bytes[index]
            guard uriByte[Int(byte)] else { return false }
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) else { return false }
                index += 2
            }
            index += 1
        }
        let rest = bytes[(colon + 1)...]
        let bracket: (UInt8) -> Bool = { $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "]") }
        guard rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) else { return !rest.contains(where: bracket) }
        let afterSlashes = rest.dropFirst(2)
        let authorityEnd = afterSlashes.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? afterSlashes.endIndex
        let authority = afterSlashes[..<authorityEnd]
        if afterSlashes[authorityEnd...].contains(where: bracket) { return false }
        var host = authority
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            if authority[..<at].contains(where: bracket) { return false }
            host = authority[(at + 1)...]
        }
        let isPort: (ArraySlice<UInt8>) -> Bool = { $0.isEmpty || ($0.first == UInt8(ascii: ":") && $0.dropFirst().allSatisfy(isDigit)) }
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = String(decoding: host[(host.startIndex + 1)..<close], as: UTF8.self)
            guard isIPv6(literal) || literal.hasPrefix("v") else { return false }
            return isPort(host[(close + 1)...])
        }
        if host.contains(where: bracket) { return false }
        if let portColon = host.lastIndex(of: UInt8(ascii: ":")) {
            return host[(portColon + 1)...].allSatisfy(isDigit)
        }
        return true
    }
}
