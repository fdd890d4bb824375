public import GovBusContracts

/// What a connector does with each type of message in its inbox: one typed handler per type.
///
/// ```swift
/// public var handlers: MessageHandlers {
///     MessageHandlers()
///         .on(FeeRequestedV1.self, createLink)
///         .on(FeeRefundRequestedV1.self, refund)
/// }
/// ```
///
/// The kit decodes the body into the handler's type and calls it. A message of a type no handler
/// takes, or whose body is not that type, goes to the dead letters with the reason: no delivery
/// of it could ever be handled.
public struct MessageHandlers: Sendable {
    public typealias Handler = @Sendable (InboxMessage) async throws -> Void

    private var handlers: [String: Handler] = [:]

    public init() {}

    /// Handles every inbox message of `Message`'s type with `handle(message, inbox)`; `inbox` is
    /// the delivery itself (its message id, correlation id, trace context). One handler a type.
    public func on<Message: GovBusMessage>(
        _: Message.Type, _ handle: @escaping @Sendable (Message, InboxMessage) async throws -> Void
    ) -> MessageHandlers {
        precondition(handlers[Message.messageType] == nil, "two handlers for \(Message.messageType)")
        var copy = self
        copy.handlers[Message.messageType] = { inbox in try await handle(try inbox.decode(Message.self), inbox) }
        return copy
    }

    /// The types handled, sorted.
    public var types: [String] { handlers.keys.sorted() }

    /// Dispatches one message to its handler.
    public func handle(_ message: InboxMessage) async throws {
        // An answer's id follows from its request's, so that a redelivery is answered once.
        guard !message.messageID.isEmpty else {
            throw AdapterFailure.permanent("the message has no message id: its answer could not be told from a repeat")
        }
        guard let handler = handlers[message.type] else {
            throw AdapterFailure.permanent(
                "no handler for '\(message.type)': this adapter handles \(types.joined(separator: ", "))")
        }
        try await handler(message)
    }
}
