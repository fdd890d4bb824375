/// Where a server of the bus listens: `host:port`. Local only unless configured otherwise.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }

    /// `host:port`, or `off` for none.
    package static func parseOrOff(_ text: String, what: String, at value: YAMLValue) throws(ConfigurationError) -> ListenAddress? {
        if text == "off" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon > text.startIndex
        else {
            throw value.error("\(what) must be host:port (such as 127.0.0.1:9464) or off, not '\(text)'")
        }
        return ListenAddress(host: String(text[..<colon]), port: port)
    }
}
