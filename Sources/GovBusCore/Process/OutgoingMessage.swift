public import Foundation
import GovBus

/// A message the process manager sends: to which adapter role, of which type, with which id.
/// Ids are derived from the transition that sends them, so that the same transition replayed after
/// a crash sends the same ids (receivers drop them), and a new transition new ones.
public struct OutgoingMessage: Codable, Sendable, Hashable {
    public let type: String
    public let messageID: String
    public let correlationID: String
    /// The message that caused it (`govbus-causation-id`).
    public let causationID: String
    public let body: Data
    /// What content-based routing rules look at, from the dossier: procedureCode, receivingAgency,
    /// communeCode.
    public let routingAttributes: [String: String]
    /// The `traceparent` it goes out with: the trace of what caused it.
    public var traceparent: String? = nil

    /// A UUID (version 8, RFC 9562) from a SHA-256 of the parts.
    static func derivedID(_ parts: String...) -> String {
        DerivedID.uuid(parts)
    }
}
