public import Foundation

/// A message type of the bus: its Swift form, tied to its name and version in Schemas/.
public protocol GovBusMessage: Codable, Sendable, Hashable {
    /// The full type, as in the `type` property and the schema's file name: `portal.dossier.submitted.v1`.
    static var messageType: String { get }
}

extension GovBusMessage {
    /// The version, from the type's last part (`v1` is 1).
    public static var version: Int {
        Int(messageType.split(separator: ".").last?.dropFirst() ?? "") ?? 0
    }

    /// The message as the JSON body of the bus.
    public func jsonBody() throws -> Data {
        try ContractCoding.encoder.encode(self)
    }

    public init(jsonBody: Data) throws {
        self = try ContractCoding.decoder.decode(Self.self, from: jsonBody)
    }
}

/// Every message type of the catalogue, by name.
public enum MessageCatalogue {
    public static let all: [any GovBusMessage.Type] = [
        DossierSubmittedV1.self, DossierStatusChangedV1.self,
        IdentityVerificationRequestedV1.self, IdentityVerifiedV1.self, IdentityRejectedV1.self,
        FeeRequestedV1.self, FeeLinkCreatedV1.self, FeePaidV1.self, FeePaidV2.self, FeeFailedV1.self, FeeRefundRequestedV1.self,
        DocumentIssueRequestedV1.self, DocumentIssuedV1.self, DocumentIssueFailedV1.self,
        AdapterHeartbeatV1.self,
        // govbus new-connector adds its messages above this line.
    ]

    public static func type(named name: String) -> (any GovBusMessage.Type)? {
        all.first { $0.messageType == name }
    }
}
