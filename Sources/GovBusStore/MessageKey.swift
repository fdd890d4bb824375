/// What makes a message a copy of another: the same sender and the same message id. Dedup is per
/// sender, so that no adapter can claim an id another will use and have the core drop its message.
public struct MessageKey: Sendable, Hashable, CustomStringConvertible {
    public let sender: String
    public let messageID: String

    public init(sender: String, messageID: String) {
        self.sender = sender
        self.messageID = messageID
    }

    public var description: String { "\(sender)/\(messageID)" }
}
