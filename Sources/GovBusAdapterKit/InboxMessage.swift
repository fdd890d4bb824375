public import Foundation
public import GovBusContracts
public import Hummingbird

/// A message the core delivered to this adapter's inbox.
public struct InboxMessage: Sendable {
    public let type: String
    public let messageID: String
    public let correlationID: String
    public let body: Data
    /// How many times the broker delivered it before (quorum queues count).
    public let previousDeliveries: Int

    public func decode<Message: GovBusMessage>(_: Message.Type) throws -> Message {
        do {
            return try Message(jsonBody: body)
        } catch {
            throw AdapterFailure.permanent("the body is not a valid \(Message.messageType): \(error)")
        }
    }
}

/// Why an adapter could not handle an inbox message: `transient` (the external system is down,
/// slow or answered 5xx) is tried again with a growing pause; `permanent` (the message can never
/// be handled) goes to the dead letters at once.
public enum AdapterFailure: Error, Sendable, CustomStringConvertible {
    case transient(String)
    case permanent(String)

    public var description: String {
        switch self {
        case .transient(let reason): "transient: \(reason)"
        case .permanent(let reason): "permanent: \(reason)"
        }
    }
}

/// An adapter's own part: what it does with its inbox (turns each message into a call on its
/// external system and stores what comes of it with `AdapterRuntime.send`), and the HTTP routes
/// its external system calls (webhooks, callbacks), which store what they receive the same way
/// before they answer.
public protocol Connector: Sendable {
    func handle(_ message: InboxMessage) async throws
    func addRoutes(to router: Router<BasicRequestContext>)
}
