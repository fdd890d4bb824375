import Crypto
import EdXML
import Foundation
import GovBus
import GovBusAdapterKit
import GovBusContracts

/// What the document system's answer to an issue request means for the bus: the document was
/// issued, or the system refused the request as invalid (an answer for the dossier too, not a
/// failure to retry). Anything else throws an `AdapterFailure`: transient when the system is
/// down or its answer does not hold up (retried later), permanent when it refuses without an
/// edXML error (a wrong address or the like: the message waits in the dead letters).
enum IssueOutcome: Sendable, Hashable {
    case issued(DocumentIssuedV1)
    case refused(DocumentIssueFailedV1)

    static func interpret(
        status: Int, body: Data, request: DocumentIssueRequestedV1, sentContent: Data, receivedAt: Date
    ) throws -> IssueOutcome {
        switch HTTPPolicy.verdict(status: status) {
        case .answer:
            return .issued(try issued(from: body, request: request, sentContent: sentContent))
        case .permanent:
            guard let error = try? EdXMLCoding.decode(EdXMLError.self, from: body) else {
                throw AdapterFailure.permanent(
                    "the document system answered \(status) without an edXML error: \(excerpt(of: body))")
            }
            return .refused(refusal(error, request: request, at: receivedAt))
        case .transient:
            throw AdapterFailure.transient("the document system answered \(status): \(excerpt(of: body))")
        }
    }

    private static func issued(
        from body: Data, request: DocumentIssueRequestedV1, sentContent: Data
    ) throws -> DocumentIssuedV1 {
        let answer: EdXMLIssueStatus
        do {
            answer = try EdXMLCoding.decode(EdXMLIssueStatus.self, from: body)
        } catch {
            throw AdapterFailure.transient("the document system's answer is not an edXML status: \(error)")
        }
        // The system keeps its first answer for a document id: asking again gets the same one, so
        // an unusable answer waits in the dead letters for an operator instead of blocking its lane.
        func unusable(_ why: String) -> AdapterFailure {
            .permanent("the document system's answer for \(request.dossierId) is unusable: \(why)")
        }
        let sentDigest = SHA256.hash(data: sentContent).lowercaseHex
        guard answer.sha256.lowercased() == sentDigest else {
            throw unusable("it stored a document with SHA-256 \(answer.sha256), not the \(sentDigest) sent")
        }
        guard !answer.codeNumber.isEmpty, answer.codeNumber.count <= 10, answer.codeNumber.allSatisfy(\.isASCIIDigit)
        else { throw unusable("the number '\(answer.codeNumber)' is not 1 to 10 digits") }
        guard let promulgationDate = VietnamCalendar.civilDate(edXML: answer.promulgationDate) else {
            throw unusable("the promulgation date '\(answer.promulgationDate)' is not dd/MM/yyyy")
        }
        // The bus's contract promises an https address for the document.
        guard let retrievalURL = URL(string: answer.retrievalUrl), retrievalURL.scheme == "https" else {
            throw unusable("the retrieval URL '\(answer.retrievalUrl)' is not an https URL")
        }
        guard let signature = Data(base64Encoded: answer.signature), !signature.isEmpty else {
            throw unusable("the signature is not base64")
        }
        guard let issuedAt = ContractCoding.parseTimestamp(answer.issuedAt) else {
            throw unusable("the issue time '\(answer.issuedAt)' is not RFC 3339")
        }
        return DocumentIssuedV1(
            dossierId: request.dossierId, documentType: request.documentType, codeNumber: answer.codeNumber,
            codeNotation: answer.codeNotation, issuingOrganCode: request.issuingOrganCode, signer: request.signer,
            promulgationDate: promulgationDate, sha256: sentDigest, retrievalUrl: retrievalURL,
            signature: signature.base64EncodedString(), issuedAt: issuedAt)
    }

    private static func refusal(_ error: EdXMLError, request: DocumentIssueRequestedV1, at date: Date) -> DocumentIssueFailedV1 {
        let message = "Hệ thống quản lý văn bản từ chối yêu cầu ban hành văn bản (\(error.errorCode)): \(error.description)"
        return DocumentIssueFailedV1(
            dossierId: request.dossierId, reason: Reason(code: "edxml-rejected", message: String(message.prefix(1000))),
            failedAt: date)
    }

    /// The start of a body, for an error message.
    private static func excerpt(of body: Data) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(no body)" : text
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
