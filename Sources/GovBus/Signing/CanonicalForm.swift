public import AMQP

/// The bytes a GovBus signature covers, as Schemas/README.md writes them down for implementers in
/// any language: a fixed first line, one `name:value` line per signed property or header in a
/// fixed order, an empty line, then the body bytes.
public enum CanonicalForm {
    public static let version = "govbus-signature-v1"

    public struct Unsignable: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The signed fields in their order, with their values (empty when absent).
    public static func fields(of properties: AMQPProperties, keyID: String, bodyLength: Int) -> [(String, String)] {
        [
            ("message-id", properties.messageID ?? ""),
            ("correlation-id", properties.correlationID ?? ""),
            ("type", properties.type ?? ""),
            ("content-type", properties.contentType ?? ""),
            ("timestamp", properties.timestamp.map { String(Int64($0.timeIntervalSince1970.rounded(.down))) } ?? ""),
            ("app-id", properties.appID ?? ""),
            ("user-id", properties.userID ?? ""),
            ("causation-id", properties.headers?["govbus-causation-id"]?.stringValue ?? ""),
            ("key-id", keyID),
            ("body-length", String(bodyLength)),
        ]
    }

    /// The canonical bytes of a message signed with `keyID`.
    public static func bytes(of message: AMQPMessage, keyID: String) throws(Unsignable) -> [UInt8] {
        var text = version + "\n"
        for (name, value) in fields(of: message.properties, keyID: keyID, bodyLength: message.body.count) {
            guard !value.contains("\n") && !value.contains("\r") else {
                throw Unsignable(description: "the \(name) of the message holds a line break and cannot be signed")
            }
            text += "\(name):\(value)\n"
        }
        text += "\n"
        return Array(text.utf8) + message.body
    }
}
