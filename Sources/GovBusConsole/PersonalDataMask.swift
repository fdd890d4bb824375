import Foundation

/// What a viewer sees of personal data: nothing that names a person. Personal ids keep their
/// first 4 and last 2 digits (`0010******45`), so that an operator can still tell two apart on
/// the phone; names, phones, e-mails, addresses and dates of birth are hidden whole.
enum PersonalDataMask {
    static let hiddenFields: Set<String> = [
        "fullName", "phone", "email", "line", "dateOfBirth", "ChuHoSo", "SoDienThoai", "Email", "DiaChi", "NgaySinh",
    ]
    static let idFields: Set<String> = ["personalId", "SoGiayTo"]

    static func personalID(_ id: String) -> String {
        guard id.count > 6 else { return String(repeating: "*", count: id.count) }
        return String(id.prefix(4)) + String(repeating: "*", count: id.count - 6) + String(id.suffix(2))
    }

    /// A JSON body with its personal data masked; a body that is not JSON is hidden whole.
    static func body(_ text: String) -> String {
        guard let data = text.data(using: .utf8), let value = try? JSONSerialization.jsonObject(with: data) else {
            return "(hidden: not JSON)"
        }
        let masked = mask(value)
        guard let out = try? JSONSerialization.data(withJSONObject: masked, options: [.sortedKeys]) else { return "(hidden)" }
        return String(decoding: out, as: UTF8.self)
    }

    private static func mask(_ value: Any, key: String? = nil) -> Any {
        if let key, idFields.contains(key), let text = value as? String { return personalID(text) }
        if let key, hiddenFields.contains(key) { return "***" }
        if let object = value as? [String: Any] {
            return Dictionary(uniqueKeysWithValues: object.map { ($0.key, mask($0.value, key: $0.key)) })
        }
        if let array = value as? [Any] { return array.map { mask($0) } }
        return value
    }
}
