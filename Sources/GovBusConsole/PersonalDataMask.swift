import Foundation

/// What a viewer sees of personal data: nothing that names a person, however it is spelled.
///
/// A body is walked as JSON. A field known to be personal is masked whatever its value is (a
/// string, a number, an object, an array): a personal id keeps its first 4 and last 2 digits
/// (`0011******45`), so that an operator can still tell two apart on the phone; names, birth
/// dates, phones, e-mails, addresses, document subjects and file names are hidden whole, and so
/// is everything inside an `applicant`. A string that holds JSON (an edited replay's audit record
/// carries `before` and `after` so) is walked the same and written back. Every other string is
/// free text: any run of 12 digits or more (a personal id, or whatever else it may be) and
/// anything shaped like a phone or an e-mail is masked, and so is each personal value of the same
/// body where it is quoted (a dead letter's reason, an error message). A number of 12 digits or
/// more is masked like a string of them.
enum PersonalDataMask {
    static let hidden = "***"

    /// Fields hidden whole, by name (lower case, without `-`, `_` or spaces): from Schemas/*.json,
    /// the console's own rows, and the Vietnamese names agencies' systems use.
    static let hiddenFields: Set<String> = [
        "fullname", "hoten", "hovaten", "dateofbirth", "birthdate", "ngaysinh", "phone", "phonenumber", "mobile",
        "sodienthoai", "email", "address", "diachi", "line", "subject", "trichyeu", "filename", "tenfile", "chuhoso",
        "applicantname", "applicantfullname", "applicantphone", "applicantemail", "applicantaddress",
        "applicantdateofbirth",
    ]
    /// Fields that hold a personal identification number.
    static let idFields: Set<String> = [
        "personalid", "applicantpersonalid", "sogiayto", "sodinhdanh", "socccd", "cccd", "citizenid", "nationalid",
    ]
    /// Objects about a person: every value inside is hidden (an id masked as one).
    static let personFields: Set<String> = ["applicant", "citizen", "nguoinop", "nguoiyeucau"]
    /// `name` is a person's or a file's (an attached document, a signer), hidden, unless it is the
    /// name of one of these.
    static let publicNameParents: Set<String> = ["procedure", "receivingagency", "agency", "feeitems", "thutuc"]

    static func personalID(_ id: String) -> String {
        guard id.count > 6 else { return String(repeating: "*", count: id.count) }
        return String(id.prefix(4)) + String(repeating: "*", count: id.count - 6) + String(id.suffix(2))
    }

    /// A JSON body with its personal data masked; a body that is not a JSON object or array is
    /// hidden whole.
    static func body(_ text: String) -> String {
        guard let value = parse(text) else { return "(hidden: not JSON)" }
        let values = quotable(collecting: value)
        return serialise(mask(value, key: nil, parent: nil, inPerson: false, hiding: values)) ?? "(hidden)"
    }

    /// The personal values of a JSON body (longest first): what a text about it, such as a dead
    /// letter's reason, may quote.
    static func personalValues(ofBody text: String) -> [String] {
        parse(text).map(quotable(collecting:)) ?? []
    }

    /// Free text with personal data masked by its shape (runs of 12 digits or more, phones,
    /// e-mails), and `values` (those of the body it is about) hidden wherever they appear.
    static func text(_ text: String, hiding values: [String] = []) -> String {
        var result = text
        for value in values { result = result.replacingOccurrences(of: value, with: hidden) }
        result = maskingDigitRuns(result)
        if result.contains("@") { result = maskingEmails(result) }
        return result
    }

    // MARK: The walk

    private enum Verdict {
        case hide, maskID, person, walk
    }

    private static func normalised(_ key: String) -> String {
        key.lowercased().filter { $0 != "-" && $0 != "_" && $0 != " " }
    }

    /// `key` and `parent` normalised; `parent` is the name of the object (or array) the field is in.
    private static func verdict(key: String?, parent: String?) -> Verdict {
        guard let key else { return .walk }
        if idFields.contains(key) { return .maskID }
        if hiddenFields.contains(key) { return .hide }
        if key == "name", !publicNameParents.contains(parent ?? "") { return .hide }
        if personFields.contains(key) { return .person }
        return .walk
    }

    private static func mask(_ value: Any, key: String?, parent: String?, inPerson: Bool, hiding values: [String]) -> Any {
        var inPerson = inPerson
        switch verdict(key: key, parent: parent) {
        case .maskID: return maskedID(value)
        case .hide: return value is NSNull ? value : hidden
        case .person: inPerson = true
        case .walk: break
        }
        if let object = value as? [String: Any] {
            var masked: [String: Any] = [:]
            for (field, item) in object {
                masked[field] = mask(item, key: normalised(field), parent: key ?? parent, inPerson: inPerson, hiding: values)
            }
            return masked
        }
        if let array = value as? [Any] {
            return array.map { mask($0, key: nil, parent: key ?? parent, inPerson: inPerson, hiding: values) }
        }
        if value is NSNull { return value }
        if inPerson { return hidden }
        if let string = value as? String {
            if let nested = parseNested(string) {
                return serialise(mask(nested, key: nil, parent: nil, inPerson: false, hiding: values)) ?? hidden
            }
            return text(string, hiding: values)
        }
        return maskedNumber(value)
    }

    /// A personal id field's value: digits keep their ends, anything else is hidden.
    private static func maskedID(_ value: Any) -> Any {
        if value is NSNull { return value }
        guard !(value is [Any]), !(value is [String: Any]) else { return hidden }
        let text = value as? String ?? "\(value)"
        guard text.unicodeScalars.count >= 9, text.unicodeScalars.allSatisfy(isDigit) else { return hidden }
        return personalID(text)
    }

    /// A number of 12 digits or more, masked as a string; any other number as it is.
    private static func maskedNumber(_ value: Any) -> Any {
        let written = "\(value)"
        let digits = written.hasPrefix("-") ? String(written.dropFirst()) : written
        guard digits.unicodeScalars.count >= 10, digits.unicodeScalars.allSatisfy(isDigit) else { return value }
        let masked = text(written)
        return masked == written ? value : masked
    }

    /// The values under personal fields, to be found again where other strings quote them.
    private static func quotable(collecting value: Any) -> [String] {
        var values = Set<String>()
        collect(value, key: nil, parent: nil, inPerson: false, into: &values)
        return values.sorted { $0.count != $1.count ? $0.count > $1.count : $0 < $1 }
    }

    private static func collect(_ value: Any, key: String?, parent: String?, inPerson: Bool, into values: inout Set<String>) {
        var inPerson = inPerson
        switch verdict(key: key, parent: parent) {
        case .maskID, .hide:
            leaves(of: value, key: key, into: &values)
            return
        case .person: inPerson = true
        case .walk: break
        }
        if let object = value as? [String: Any] {
            for (field, item) in object {
                collect(item, key: normalised(field), parent: key ?? parent, inPerson: inPerson, into: &values)
            }
        } else if let array = value as? [Any] {
            for item in array { collect(item, key: nil, parent: key ?? parent, inPerson: inPerson, into: &values) }
        } else if inPerson {
            leaves(of: value, key: key, into: &values)
        } else if let string = value as? String, let nested = parseNested(string) {
            collect(nested, key: nil, parent: nil, inPerson: false, into: &values)
        }
    }

    /// Every scalar of a personal value as text, when it is specific enough to search for: not
    /// a code (an address's commune or province code is shared by thousands), not a short word.
    private static func leaves(of value: Any, key: String?, into values: inout Set<String>) {
        if let object = value as? [String: Any] {
            for (field, item) in object { leaves(of: item, key: normalised(field), into: &values) }
        } else if let array = value as? [Any] {
            for item in array { leaves(of: item, key: key, into: &values) }
        } else if let string = value as? String {
            if let nested = parseNested(string) {
                collect(nested, key: nil, parent: nil, inPerson: true, into: &values)
                return
            }
            let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.count >= 4, !(key ?? "").hasSuffix("code") { values.insert(trimmed) }
        } else if !(value is NSNull) {
            let written = "\(value)"
            if written.unicodeScalars.count >= 6, written.unicodeScalars.allSatisfy(isDigit) { values.insert(written) }
        }
    }

    // MARK: JSON

    private static func parse(_ text: String) -> Any? {
        guard let data = text.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data),
            value is [String: Any] || value is [Any]
        else { return nil }
        return value
    }

    /// A string that holds a JSON object or array, parsed; nil for any other.
    private static func parseNested(_ string: String) -> Any? {
        guard let first = string.first(where: { !$0.isWhitespace }), first == "{" || first == "[" else { return nil }
        return parse(string)
    }

    private static func serialise(_ value: Any) -> String? {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Shapes in free text

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value)
    }

    private static func isHex(_ scalar: Unicode.Scalar) -> Bool {
        (0x30...0x39).contains(scalar.value) || (0x41...0x46).contains(scalar.value) || (0x61...0x66).contains(scalar.value)
    }

    /// Runs of 12 digits or more keep their ends (`0011******45`); phones (`0` and 9 or 10 digits,
    /// `+84` and 9 or 10) are hidden. Not the digits of a UUID or a hex digest (a message id, a
    /// file's SHA-256), which are nobody's.
    private static func maskingDigitRuns(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var out = ""
        var index = 0
        while index < scalars.count {
            guard isDigit(scalars[index]) else {
                out.unicodeScalars.append(scalars[index])
                index += 1
                continue
            }
            var end = index
            while end < scalars.count, isDigit(scalars[end]) { end += 1 }
            var run = ""
            run.unicodeScalars.append(contentsOf: scalars[index..<end])
            let length = end - index
            let phone =
                ((length == 10 || length == 11) && run.hasPrefix("0"))
                || ((length == 11 || length == 12) && run.hasPrefix("84") && index > 0 && scalars[index - 1] == "+")
            if (phone || length >= 12) && !isInIdentifier(scalars, from: index, to: end) {
                out += phone ? hidden : personalID(run)
            } else {
                out += run
            }
            index = end
        }
        return out
    }

    /// Whether the digits from `start` to `end` are part of a hex digest (32 hex digits or more)
    /// or the last group of a UUID.
    private static func isInIdentifier(_ scalars: [Unicode.Scalar], from start: Int, to end: Int) -> Bool {
        var lower = start
        var upper = end
        while lower > 0, isHex(scalars[lower - 1]) { lower -= 1 }
        while upper < scalars.count, isHex(scalars[upper]) { upper += 1 }
        if upper - lower >= 32 { return true }
        guard upper - lower == 12 else { return false }
        var position = lower
        for length in [4, 4, 4, 8] {
            guard position - length - 1 >= 0, scalars[position - 1] == "-",
                scalars[(position - 1 - length)..<(position - 1)].allSatisfy(isHex)
            else { return false }
            position -= length + 1
        }
        return position == 0 || !isHex(scalars[position - 1])
    }

    private static func maskingEmails(_ text: String) -> String {
        guard let address = try? Regex("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+") else { return text }
        return text.replacing(address, with: hidden)
    }
}
