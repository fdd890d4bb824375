public import Foundation
public import GovBusContracts
public import GovBusTelemetry
public import Hummingbird

/// A message the core delivered to this adapter's inbox.
public struct InboxMessage: Sendable {
    public let type: String
    public let messageID: String
    public let correlationID: String
    public let body: Data
    /// How many times the broker delivered it before (quorum queues count).
    public let previousDeliveries: Int
    /// The dossier's trace, passed on to the external calls its handling makes.
    public let trace: TraceHeaders?

    public init(
        type: String, messageID: String, correlationID: String, body: Data, previousDeliveries: Int = 0,
        trace: TraceHeaders? = nil
    ) {
        self.type = type
        self.messageID = messageID
        self.correlationID = correlationID
        self.body = body
        self.previousDeliveries = previousDeliveries
        self.trace = trace
    }

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

/// An adapter's own part: what it does with its inbox (a typed handler per message type, which
/// turns the message into a call on its external system and stores what comes of it with
/// `AdapterRuntime.send`), and the HTTP routes its external system calls (webhooks, callbacks),
/// which store what they receive the same way before they answer.
public protocol Connector: Sendable {
    var handlers: MessageHandlers { get }
    func addRoutes(to router: Router<BasicRequestContext>)
}

extension Connector {
    /// A system that calls nothing back (it only answers the connector's requests) adds no route.
    public func addRoutes(to router: Router<BasicRequestContext>) {}

    /// Handles one inbox message as its handler does, without the runtime's schema check: for
    /// tests that drive a connector directly.
    package func handle(_ message: InboxMessage) async throws {
        try await handlers.handle(message)
    }
}
