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

extension MessageKey {
    /// The keys among `keys` that `table` (with columns `sender` and `message_id`) holds, in one
    /// statement: both columns by `IN`, which their indexes serve, and the pairs checked here.
    static func found(in table: String, _ keys: [MessageKey], session: any StoreSession) throws -> Set<MessageKey> {
        let senders = Array(Set(keys.map(\.sender)))
        let ids = Array(Set(keys.map(\.messageID)))
        func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }
        let rows = try session.query(
            """
            SELECT DISTINCT sender, message_id FROM \(table)
            WHERE message_id IN (\(placeholders(ids.count))) AND sender IN (\(placeholders(senders.count)))
            """,
            ids.map(StoreValue.text) + senders.map(StoreValue.text))
        let wanted = Set(keys)
        return Set(try rows.map { MessageKey(sender: try $0.text("sender"), messageID: try $0.text("message_id")) })
            .intersection(wanted)
    }
}
