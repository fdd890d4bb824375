public import AMQP
public import Foundation
public import GovBus
import GovBusContracts

/// The checks every message on `govbus.core.ingress` goes through, in order. The first that fails
/// decides: the message goes to the dead letters with that check's name and reason.
public struct IngressChecks: Sendable {
    public enum Check: String, Sendable, Hashable, CaseIterable {
        case envelope, sender, signature, permission, schema
        /// The message does not belong where it says: its correlation_id is not the body's dossier,
        /// or a reply answers no request the core made to its sender (see `ReplyCorrelation`).
        case correlation
        /// The core died while it had this message in hand; it is not tried again.
        case crash
        /// The message is well formed but the core cannot act on it (e.g. an unknown procedure).
        case process
    }

    /// A message that passed every check.
    public struct Accepted: Sendable {
        public let sender: String
        public let keyID: String
        public let type: String
        public let messageID: String
        public let correlationID: String
        /// The message this one answers (`govbus-causation-id`), if it names one.
        public let causationID: String?
        public let body: JSONValue
        public let signature: String
        /// A dead letter an adapter rejected, replayed by an operator: the adapter to deliver it to
        /// again, after the checks (it is neither deduplicated nor fed to the dossier process).
        public let replayTo: String?
    }

    public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
        public let check: Check
        public let reason: String

        public var description: String { "\(check.rawValue): \(reason)" }
    }

    public let routes: RoutesFile
    /// The communes reorganised: a replaced code is routed as its new one from the change's time.
    public let communes: CommuneChanges
    public let catalog: SchemaCatalog
    public let maximumBodyBytes: Int
    /// The core's own broker user: a message it published itself (a retry) names its first sender
    /// in `govbus-sender`, since the broker lets a connection publish only its own user id.
    public let coreUser: String?
    private let verifier: SignatureVerifier
    /// Key id → the adapter it belongs to.
    private let keyOwners: [String: String]

    public init(
        routes: RoutesFile, communes: CommuneChanges = .none, catalog: SchemaCatalog, maximumBodyBytes: Int = 256 * 1024,
        coreUser: String? = nil
    ) throws {
        self.routes = routes
        self.communes = communes
        self.catalog = catalog
        self.maximumBodyBytes = maximumBodyBytes
        self.coreUser = coreUser
        var keys: [String: String] = [:]
        var owners: [String: String] = [:]
        for adapter in routes.adapters.values {
            for (keyID, key) in adapter.keys {
                keys[keyID] = key
                owners[keyID] = adapter.name
            }
        }
        for (keyID, key) in routes.operatorKeys {
            keys[keyID] = key
            owners[keyID] = Self.operatorsAsOwner
        }
        // The core's own messages come back only as replays of dead letters.
        if let coreUser {
            for (keyID, key) in routes.coreKeys {
                keys[keyID] = key
                owners[keyID] = coreUser
            }
        }
        verifier = try SignatureVerifier(base64Keys: keys)
        keyOwners = owners
    }

    /// The adapters that receive a message of `type` about a dossier with these attributes, at
    /// `date`: its commune is the one that replaced it by then, if any.
    public func receivers(of type: String, attributes: [RoutesFile.Rule.Field: String], at date: Date = Date()) -> [String] {
        var attributes = attributes
        if let commune = attributes[.communeCode] { attributes[.communeCode] = communes.current(commune, at: date) }
        return routes.receivers(of: type, attributes: attributes)
    }

    /// Who owns the operators' keys, in `keyOwners` (not a valid adapter name: it cannot clash).
    static let operatorsAsOwner = "(operators)"
    /// Headers only the core writes, on its own copies (retries, forwarded and dead letters,
    /// replays). Any of them on an adapter's message is a forgery: it is refused, never read.
    public static func isCoreOnlyHeader(_ name: String) -> Bool {
        let lowercased = name.lowercased()
        return coreOnlyHeaders.contains(lowercased) || coreOnlyPrefixes.contains { lowercased.hasPrefix($0) }
    }

    private static let coreOnlyHeaders: Set<String> = [BusHeader.attempt, BusHeader.sender, BusHeader.editedBy, BusHeader.replayTo]
    private static let coreOnlyPrefixes = [BusHeader.errorPrefix, BusHeader.death, "x-first-death", "x-last-death"]

    /// The signature check alone, on the message as its sender signed it: the key id, or why the
    /// signature does not hold. The router runs it ahead, for several messages at once, and
    /// hands the outcome to `check`, which uses it at the signature's place among the checks.
    public func verifySignature(of received: AMQPMessage) -> Result<String, SignatureError> {
        Result { () throws(SignatureError) in try verifier.verify(received.asFirstSent(coreUser: coreUser)) }
    }

    /// Runs the checks; returns the accepted message or throws the first rejection. `signature`:
    /// the outcome of `verifySignature` for this message, if it was run already.
    public func check(_ received: AMQPMessage, signature: Result<String, SignatureError>? = nil) throws(Rejection) -> Accepted {
        if received.properties.userID != coreUser || coreUser == nil,
            let forged = received.properties.headers?.keys.filter(Self.isCoreOnlyHeader).min()
        {
            throw Rejection(check: .envelope, reason: "header '\(forged)' is written by the core only")
        }
        let message = received.asFirstSent(coreUser: coreUser)
        let properties = message.properties
        // Envelope.
        guard let messageID = properties.messageID, UUID(uuidString: messageID) != nil else {
            throw Rejection(check: .envelope, reason: "message_id is missing or not a UUID")
        }
        guard let type = properties.type, !type.isEmpty else {
            throw Rejection(check: .envelope, reason: "the type property is missing")
        }
        guard let correlationID = properties.correlationID, !correlationID.isEmpty else {
            throw Rejection(check: .envelope, reason: "correlation_id (the dossier) is missing")
        }
        guard properties.contentType == "application/json" else {
            throw Rejection(
                check: .envelope, reason: "content_type must be application/json, not \(properties.contentType ?? "absent")")
        }
        var causationID: String?
        if let causation = properties.headers?[BusHeader.causationID] {
            guard let text = causation.stringValue, UUID(uuidString: text) != nil else {
                throw Rejection(check: .envelope, reason: "govbus-causation-id must be the UUID of the message answered")
            }
            causationID = text
        }
        guard message.body.count <= maximumBodyBytes else {
            throw Rejection(
                check: .envelope, reason: "the body has \(message.body.count) bytes, more than the \(maximumBodyBytes) allowed")
        }
        // Sender: the broker checked user_id against the connection; it must be a known adapter,
        // and the signature must be made with one of that adapter's keys.
        // The core's own copies may name an adapter to replay to; and only as a replay may the
        // core's own message (a request it made) come back to it.
        let fromCore = received.properties.userID == coreUser && coreUser != nil
        var replayTo: String?
        if fromCore, let target = received.properties.headers?[BusHeader.replayTo] {
            guard let name = target.stringValue, routes.adapters[name] != nil else {
                throw Rejection(check: .envelope, reason: "\(BusHeader.replayTo) names no known adapter")
            }
            replayTo = name
        }
        let coreMessage = replayTo != nil && properties.userID == coreUser
        // What the console signs and sends itself, as the core's user: a fee paid at the counter.
        // (Never an edited or replayed letter: an officer records a payment again, no one else.)
        let fromConsole =
            fromCore && replayTo == nil && properties.userID == coreUser && properties.headers?[BusHeader.editedBy] == nil
            && routes.operatorPublishes.contains(type)
        guard let sender = fromConsole ? Self.operatorsAsOwner : properties.userID, routes.adapters[sender] != nil || coreMessage || fromConsole
        else {
            throw Rejection(check: .sender, reason: "user_id '\(properties.userID ?? "")' is not a known adapter")
        }
        let keyID: String
        switch signature ?? verifySignature(of: received) {
        case .success(let key): keyID = key
        case .failure(let error): throw Rejection(check: .signature, reason: error.description)
        }
        // A dead letter an operator edited comes back through the core's user, signed by the
        // console: its sender's signature no longer holds for the new body.
        let editedByOperator = received.properties.userID == coreUser && properties.headers?[BusHeader.editedBy] != nil
        let expectedOwner = editedByOperator ? Self.operatorsAsOwner : sender
        guard keyOwners[keyID] == expectedOwner else {
            throw Rejection(
                check: .signature,
                reason: editedByOperator
                    ? "an edited replay must be signed with an operators' key, not '\(keyID)'"
                    : "key '\(keyID)' is not a key of '\(sender)'")
        }
        // Permission: an adapter's, from the routes file; the core's own messages (replays) need none.
        guard coreMessage || fromConsole || routes.allows(sender, toPublish: type) else {
            throw Rejection(check: .permission, reason: "'\(sender)' may not publish \(type)")
        }
        // Schema.
        guard let schema = catalog.schema(for: type) else {
            throw Rejection(check: .schema, reason: "\(type) is not a message type of the catalogue")
        }
        let body: JSONValue
        do {
            body = try JSONValue(parsingUTF8: message.body)
        } catch {
            throw Rejection(check: .schema, reason: "the body is not JSON: \(error)")
        }
        let errors = schema.validate(body)
        guard errors.isEmpty else {
            throw Rejection(check: .schema, reason: errors.prefix(5).map(\.description).joined(separator: "; "))
        }
        // Correlation: a message about a dossier belongs to that dossier only.
        if case .object(let fields) = body, case .string(let dossierID)? = fields["dossierId"], dossierID != correlationID {
            throw Rejection(check: .correlation, reason: "correlation_id is not the body's dossierId")
        }
        return Accepted(
            sender: sender, keyID: keyID, type: type, messageID: messageID, correlationID: correlationID,
            causationID: causationID, body: body, signature: properties.headers?[BusHeader.signature]?.stringValue ?? "",
            replayTo: replayTo)
    }
}

extension AMQPMessage {
    /// The copy the core publishes (to an inbox, a retry queue or the dead letters): the broker
    /// accepts only the core's own user id, so the sender's moves to the `govbus-sender` header.
    public func forwarded(byCore coreUser: String) -> AMQPMessage {
        guard let sender = properties.userID, sender != coreUser else { return self }
        var copy = self
        copy.properties.headers = (copy.properties.headers ?? [:]).merging([BusHeader.sender: .string(sender)]) { $1 }
        copy.properties.userID = coreUser
        return copy
    }

    /// A sender's message without the headers only the core writes (forged, since only the core
    /// writes them): to forward before it travels under the core's user id, where they would be
    /// believed. The core's own copies keep them.
    public func withoutForgedCoreHeaders(coreUser: String) -> AMQPMessage {
        guard properties.userID != coreUser, let headers = properties.headers else { return self }
        var copy = self
        copy.properties.headers = headers.filter { !IngressChecks.isCoreOnlyHeader($0.key) }
        return copy
    }

    /// The message as its sender published it, from a copy the core forwarded (the signature
    /// covers the sender's user id).
    public func asFirstSent(coreUser: String?) -> AMQPMessage {
        guard let coreUser, properties.userID == coreUser,
            let sender = properties.headers?[BusHeader.sender]?.stringValue
        else { return self }
        var original = self
        original.properties.userID = sender
        original.properties.headers?[BusHeader.sender] = nil
        return original
    }

    /// The message as a dead letter: its properties and body as they came, plus headers saying
    /// which check failed, why, where and when.
    public func deadLettered(check: String, reason: String, where place: String, at now: Date) -> AMQPMessage {
        var copy = self
        var headers = copy.properties.headers ?? [:]
        headers[BusHeader.errorCheck] = .string(check)
        headers[BusHeader.errorReason] = .string(String(reason.prefix(1000)))
        headers[BusHeader.errorWhere] = .string(place)
        headers[BusHeader.errorAt] = .string(RFC3339.string(from: now))
        copy.properties.headers = headers
        return copy
    }
}
