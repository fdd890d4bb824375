/// An element or attribute name as XMLCoder writes or reads it, prefix included or not: what the
/// custom key strategies of the namespaced protocols (edXML, SOAP with X-Road) return.
public struct XMLName: CodingKey, Sendable {
    public let stringValue: String
    public let intValue: Int? = nil

    public init(_ name: String) {
        stringValue = name
    }

    public init?(stringValue: String) {
        self.stringValue = stringValue
    }

    public init?(intValue: Int) {
        nil
    }

    /// `xrd:client` is `client`. Namespace declarations (`xmlns:xrd`) keep their name, so that
    /// they never pass for an element of the same local name.
    public static func localName(_ name: String) -> String {
        guard !name.hasPrefix("xmlns"), let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }
}
