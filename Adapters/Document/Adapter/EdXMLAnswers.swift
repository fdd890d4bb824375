import Foundation

/// The document system's answer to an issue request it accepted (`edXML:Status`): the number it
/// gave, the notation, the promulgation date, and the stored document's digest, signature and
/// address. The same document id always gets the same answer.
struct EdXMLIssueStatus: Codable, Hashable {
    var documentId: String
    var organId: String
    var codeNumber: String
    var codeNotation: String
    /// dd/MM/yyyy.
    var promulgationDate: String
    /// Hex SHA-256 of the document's bytes as the system stored them.
    var sha256: String
    /// The system's Ed25519 signature of those bytes, base64.
    var signature: String
    var retrievalUrl: String
    /// RFC 3339.
    var issuedAt: String

    enum CodingKeys: String, CodingKey {
        case documentId = "DocumentId"
        case organId = "OrganId"
        case codeNumber = "CodeNumber"
        case codeNotation = "CodeNotation"
        case promulgationDate = "PromulgationDate"
        case sha256 = "Sha256"
        case signature = "Signature"
        case retrievalUrl = "RetrievalUrl"
        case issuedAt = "IssuedAt"
    }

    static let rootElement = "Status"
}

/// The document system's answer to a package it refuses (`edXML:Error`).
struct EdXMLError: Codable, Hashable {
    var errorCode: String
    var description: String

    enum CodingKeys: String, CodingKey {
        case errorCode = "ErrorCode"
        case description = "Description"
    }

    static let rootElement = "Error"
}
