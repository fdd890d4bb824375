public import Foundation

/// core → document system: issue the dossier's result document.
public struct DocumentIssueRequestedV1: GovBusMessage {
    public static let messageType = "document.issue-requested.v1"

    public var dossierId: String
    public var documentType: DocumentType
    public var issuingOrganCode: String
    public var recipientOrganCode: String
    public var subject: String
    public var signer: Signer
    public var requestedAt: Date

    public init(
        dossierId: String, documentType: DocumentType, issuingOrganCode: String, recipientOrganCode: String,
        subject: String, signer: Signer, requestedAt: Date
    ) {
        self.dossierId = dossierId
        self.documentType = documentType
        self.issuingOrganCode = issuingOrganCode
        self.recipientOrganCode = recipientOrganCode
        self.subject = subject
        self.signer = signer
        self.requestedAt = requestedAt
    }
}

/// document system → core: the document is issued, numbered and signed.
public struct DocumentIssuedV1: GovBusMessage {
    public static let messageType = "document.issued.v1"

    public var dossierId: String
    public var documentType: DocumentType
    /// The document's number (số) and notation (ký hiệu), e.g. 125 and QĐ-UBND.
    public var codeNumber: String
    public var codeNotation: String
    public var issuingOrganCode: String
    public var signer: Signer
    public var promulgationDate: CivilDate
    public var sha256: String
    public var retrievalUrl: URL
    /// The document's digital signature, base64.
    public var signature: String
    public var issuedAt: Date

    public init(
        dossierId: String, documentType: DocumentType, codeNumber: String, codeNotation: String,
        issuingOrganCode: String, signer: Signer, promulgationDate: CivilDate, sha256: String, retrievalUrl: URL,
        signature: String, issuedAt: Date
    ) {
        self.dossierId = dossierId
        self.documentType = documentType
        self.codeNumber = codeNumber
        self.codeNotation = codeNotation
        self.issuingOrganCode = issuingOrganCode
        self.signer = signer
        self.promulgationDate = promulgationDate
        self.sha256 = sha256
        self.retrievalUrl = retrievalUrl
        self.signature = signature
        self.issuedAt = issuedAt
    }
}

/// document system → core: the document could not be issued.
public struct DocumentIssueFailedV1: GovBusMessage {
    public static let messageType = "document.issue-failed.v1"

    public var dossierId: String
    public var reason: Reason
    public var failedAt: Date

    public init(dossierId: String, reason: Reason, failedAt: Date) {
        self.dossierId = dossierId
        self.reason = reason
        self.failedAt = failedAt
    }
}
