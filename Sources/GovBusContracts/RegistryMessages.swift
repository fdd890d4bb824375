public import Foundation

/// core → registry: check the applicant against the population registry.
public struct IdentityVerificationRequestedV1: GovBusMessage {
    public static let messageType = "registry.identity.verification-requested.v1"

    public var dossierId: String
    public var personalId: String
    public var fullName: String
    public var dateOfBirth: CivilDate
    public var requestedAt: Date

    public init(dossierId: String, personalId: String, fullName: String, dateOfBirth: CivilDate, requestedAt: Date) {
        self.dossierId = dossierId
        self.personalId = personalId
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
        self.requestedAt = requestedAt
    }
}

/// registry → core: the applicant is who the dossier says.
public struct IdentityVerifiedV1: GovBusMessage {
    public static let messageType = "registry.identity.verified.v1"

    public enum Result: String, Codable, Sendable, Hashable {
        case match
    }

    public var dossierId: String
    public var personalId: String
    public var result: Result
    /// The e-ID level of the citizen's account (1 or 2).
    public var eIdLevel: Int
    public var verifiedAt: Date

    public init(dossierId: String, personalId: String, result: Result = .match, eIdLevel: Int, verifiedAt: Date) {
        self.dossierId = dossierId
        self.personalId = personalId
        self.result = result
        self.eIdLevel = eIdLevel
        self.verifiedAt = verifiedAt
    }
}

/// registry → core: the applicant does not match the registry, or is not in it.
public struct IdentityRejectedV1: GovBusMessage {
    public static let messageType = "registry.identity.rejected.v1"

    public enum Result: String, Codable, Sendable, Hashable {
        case mismatch
        case notFound = "not-found"
    }

    public enum Field: String, Codable, Sendable, Hashable {
        case fullName, dateOfBirth
    }

    public var dossierId: String
    public var personalId: String
    public var result: Result
    public var mismatchedFields: [Field]?
    public var rejectedAt: Date
    public var reason: Reason

    public init(
        dossierId: String, personalId: String, result: Result, mismatchedFields: [Field]? = nil, rejectedAt: Date,
        reason: Reason
    ) {
        self.dossierId = dossierId
        self.personalId = personalId
        self.result = result
        self.mismatchedFields = mismatchedFields
        self.rejectedAt = rejectedAt
        self.reason = reason
    }
}
