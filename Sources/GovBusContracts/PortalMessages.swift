public import Foundation

/// portal → core: a citizen submitted a dossier.
public struct DossierSubmittedV1: GovBusMessage {
    public static let messageType = "portal.dossier.submitted.v1"

    public enum Channel: String, Codable, Sendable, Hashable {
        case online, counter
    }

    public var dossierId: String
    public var procedure: Procedure
    public var receivingAgency: Agency
    public var communeCode: String
    public var applicant: Applicant
    public var submittedAt: Date
    public var channel: Channel
    public var attachedDocuments: [AttachedDocument]
    public var feeItems: [FeeItem]

    public init(
        dossierId: String, procedure: Procedure, receivingAgency: Agency, communeCode: String, applicant: Applicant,
        submittedAt: Date, channel: Channel, attachedDocuments: [AttachedDocument], feeItems: [FeeItem]
    ) {
        self.dossierId = dossierId
        self.procedure = procedure
        self.receivingAgency = receivingAgency
        self.communeCode = communeCode
        self.applicant = applicant
        self.submittedAt = submittedAt
        self.channel = channel
        self.attachedDocuments = attachedDocuments
        self.feeItems = feeItems
    }
}

/// core → portal: a dossier moved to another status.
public struct DossierStatusChangedV1: GovBusMessage {
    public static let messageType = "portal.dossier.status-changed.v1"

    public enum Status: String, Codable, Sendable, Hashable, CaseIterable {
        case submitted, completed, rejected, refunded
        case identityVerified = "identity-verified"
        case feeRequested = "fee-requested"
        case feePaid = "fee-paid"
        case documentIssued = "document-issued"
        case needsAttention = "needs-attention"
    }

    public var dossierId: String
    public var status: Status
    public var reason: Reason?
    public var at: Date
    /// Where the citizen pays; set with `feeRequested`.
    public var paymentLink: URL?
    /// Where the citizen gets the result; set with `documentIssued` and `completed`.
    public var resultLink: URL?

    public init(
        dossierId: String, status: Status, reason: Reason? = nil, at: Date, paymentLink: URL? = nil,
        resultLink: URL? = nil
    ) {
        self.dossierId = dossierId
        self.status = status
        self.reason = reason
        self.at = at
        self.paymentLink = paymentLink
        self.resultLink = resultLink
    }
}
