public import AMQP
import Foundation

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
            ("timestamp", properties.timestamp.map(seconds) ?? ""),
            ("app-id", properties.appID ?? ""),
            ("user-id", properties.userID ?? ""),
            ("causation-id", properties.headers?[BusHeader.causationID]?.stringValue ?? ""),
            ("key-id", keyID),
            ("body-length", String(bodyLength)),
        ]
    }

    /// A timestamp as whole seconds. One from the wire may be past what an Int64 holds (a u64 read
    /// into a Double, which is no longer exact): `bytes` refuses to sign or verify it, so that no
    /// signature covers a timestamp it cannot pin down, and nothing traps.
    static func seconds(_ date: Date) -> String {
        Int64(exactly: date.timeIntervalSince1970.rounded(.down)).map(String.init) ?? "out-of-range"
    }

    /// Timestamps a signature can cover: whole seconds that a Double holds exactly (up to 2^53).
    static func isSignable(_ date: Date) -> Bool {
        abs(date.timeIntervalSince1970) < 9_007_199_254_740_992
    }

    /// The canonical bytes of a message signed with `keyID`.
    public static func bytes(of message: AMQPMessage, keyID: String) throws(Unsignable) -> [UInt8] {
        if let timestamp = message.properties.timestamp, !isSignable(timestamp) {
            throw Unsignable(description: "the timestamp of the message is out of range and cannot be signed")
        }
        var text = version + "\n"
        for (name, value) in fields(of: message.properties, keyID: keyID, bodyLength: message.body.count) {
            // Bytes, not Characters: "\r\n" is one Character, which contains neither "\r" nor "\n".
            guard !value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else {
                throw Unsignable(description: "the \(name) of the message holds a line break and cannot be signed")
            }
            text += "\(name):\(value)\n"
        }
        text += "\n"
        return Array(text.utf8) + message.body
    }
}
