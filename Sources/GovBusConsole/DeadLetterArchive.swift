import AMQP
import Foundation
import GovBus
import GovBusStore

/// The dead letters, taken off `govbus.dead-letters` into the store (`DeadLetterStore`) so that an operator can look at
/// them, replay them to where they were going, or discard them, one by one or by a filter, with
/// every action kept. Every replay goes through the core's queue, to be checked again: a letter an
/// adapter rejected (the inbox's dead-lettering) names that adapter in `govbus-replay-to`, and the
/// core sends it back there only if it still passes.
final class DeadLetterArchive: Sendable {
    struct Letter: Codable, Sendable {
        var id: Int64
        var messageId: String
        var type: String
        var sender: String
        var correlationId: String
        /// The check that failed, or "rejected by <queue>" for an adapter's rejection.
        var check: String
        var reason: String
        var at: Date
        var attempts: Int
        /// Where a replay sends it.
        var origin: String
        var status: DeadLetterStatus
        var body: String
    }

    struct Filter: Sendable {
        var type: String?
        var sender: String?
        var check: String?
        var status: DeadLetterStatus? = .waiting
    }

    private let store: DeadLetterStore

    init(_ location: StoreLocation) throws {
        store = try DeadLetterStore(location)
    }

    /// Keeps a dead letter (its delivery is acked once it is stored).
    func store(properties: AMQPProperties, body: [UInt8]) throws {
        let headers = properties.headers ?? [:]
        let death = headers[BusHeader.death].flatMap { value -> AMQPTable? in
            if case .array(let deaths) = value, case .table(let first)? = deaths.first { return first }
            return nil
        }
        let deadQueue = death?["queue"]?.stringValue
        let check = headers[BusHeader.errorCheck]?.stringValue ?? deadQueue.map { "rejected by \($0)" } ?? "unknown"
        let reason =
            headers[BusHeader.errorReason]?.stringValue ?? death?["reason"]?.stringValue.map(Self.describeDeath)
            ?? "no reason given"
        let origin = headers[BusHeader.errorWhere]?.stringValue == "core" ? "govbus.core.ingress" : (deadQueue ?? "govbus.core.ingress")
        try store.add(
            DeadLetterStore.Letter(
                messageID: properties.messageID ?? "", type: properties.type ?? "",
                sender: headers[BusHeader.sender]?.stringValue ?? properties.userID ?? "",
                correlationID: properties.correlationID ?? "", check: check, reason: reason, at: Date(),
                attempts: Int(clamping: headers[BusHeader.attempt]?.integerValue ?? 1), origin: origin,
                properties: try JSONEncoder().encode(StoredProperties(properties)), body: Data(body)))
    }

    /// The broker's reason for a dead-lettering (`x-death`), for people.
    static func describeDeath(_ reason: String) -> String {
        switch reason {
        case "rejected": "the consumer rejected it"
        case "delivery_limit": "delivered too many times without being settled (the queue's delivery limit)"
        case "expired": "it expired"
        case "maxlen": "the queue was full"
        default: reason
        }
    }

    func list(_ filter: Filter, limit: Int = 500) throws -> [Letter] {
        try store.list(
            DeadLetterStore.Filter(type: filter.type, sender: filter.sender, check: filter.check, status: filter.status),
            limit: limit
        ).map(Self.letter)
    }

    /// How many wait for an operator (for the overview, without reading their bodies).
    func waitingCount() throws -> Int {
        try store.waitingCount()
    }

    func letter(_ id: Int64) throws -> Letter? {
        try store.letter(id).map(Self.letter)
    }

    /// The letter as it can be published again, to the core: its properties without the
    /// dead-lettering's headers, and the inbox's adapter it goes back to, if an adapter rejected it.
    func message(_ id: Int64, body: Data? = nil) throws -> (message: AMQPMessage, origin: String)? {
        guard let letter = try store.letter(id) else { return nil }
        let stored = try JSONDecoder().decode(StoredProperties.self, from: letter.properties)
        var message = AMQPMessage(body: Array(body ?? letter.body), properties: stored.properties)
        if letter.origin.hasPrefix(Self.inboxPrefix) {
            // From an inbox or one of its partitions (`govbus.adapter.portal.2`): the adapter's name.
            let adapter = QueueFigures.partitioned(String(letter.origin.dropFirst(Self.inboxPrefix.count)))
            message.properties.headers?[BusHeader.replayTo] = .string(adapter)
        }
        return (message, Self.coreQueue)
    }

    static let coreQueue = "govbus.core.ingress"
    static let inboxPrefix = "govbus.adapter."

    func mark(_ id: Int64, status: DeadLetterStatus) throws {
        try store.mark(id, status: status)
    }

    private static func letter(_ stored: DeadLetterStore.Letter) -> Letter {
        Letter(
            id: stored.id, messageId: stored.messageID, type: stored.type, sender: stored.sender,
            correlationId: stored.correlationID, check: stored.check, reason: stored.reason, at: stored.at,
            attempts: stored.attempts, origin: stored.origin, status: stored.status,
            body: String(decoding: stored.body, as: UTF8.self))
    }
}

/// The properties a replay needs, as JSON: the envelope's fields and the string headers (the
/// signature, its key, the first sender, the causation); not the dead-lettering's own headers.
struct StoredProperties: Codable, Sendable {
    var contentType: String?
    var correlationID: String?
    var messageID: String?
    var type: String?
    var userID: String?
    var appID: String?
    var timestamp: Date?
    var headers: [String: String]

    init(_ properties: AMQPProperties) {
        contentType = properties.contentType
        correlationID = properties.correlationID
        messageID = properties.messageID
        type = properties.type
        userID = properties.userID
        appID = properties.appID
        timestamp = properties.timestamp
        var headers: [String: String] = [:]
        for (name, value) in properties.headers ?? [:]
        where !name.hasPrefix(BusHeader.errorPrefix) && !name.hasPrefix("x-") && name != BusHeader.attempt && name != BusHeader.replayTo {
            if let text = value.stringValue { headers[name] = text }
        }
        self.headers = headers
    }

    var properties: AMQPProperties {
        AMQPProperties(
            contentType: contentType, headers: headers.mapValues { .string($0) }, deliveryMode: .persistent,
            correlationID: correlationID, messageID: messageID, timestamp: timestamp, type: type, userID: userID, appID: appID)
    }
}
