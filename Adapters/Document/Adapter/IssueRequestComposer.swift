import Foundation
import GovBusContracts

/// Turns a `document.issue-requested.v1` into the edXML package for the document system. The
/// bus (GovBus, `senderOrganId`) sends it to the issuing organ, whose register numbers it; the
/// recipient organ is named in the document.
struct IssueRequestComposer: Sendable {
    /// The bus's own organ, as the document system knows it.
    var organName: String
    var senderOrganId: String
    /// Where documents are issued (địa danh), printed before the date.
    var place: String

    struct Composed: Sendable {
        var envelope: EdXMLEnvelope
        /// The document's bytes, as sent in the attachment.
        var content: Data
    }

    /// `documentId` must be the same on every delivery of the request: the system answers the
    /// same number for the same id.
    func compose(_ request: DocumentIssueRequestedV1, documentId: String, sentAt: Date) -> Composed {
        let content = DocumentText.render(request, place: place)
        let kind = request.documentType
        let header = EdXMLEnvelope.MessageHeader(
            from: .init(organId: senderOrganId, organName: organName),
            // The request carries only the issuing organ's code.
            to: .init(organId: request.issuingOrganCode, organName: request.issuingOrganCode),
            documentId: documentId,
            code: .init(codeNumber: "", codeNotation: kind.codeNotation),
            promulgationInfo: .init(
                place: place,
                promulgationDate: VietnamCalendar.edXMLDate(VietnamCalendar.civilDate(of: request.requestedAt))),
            documentType: .init(type: kind.edXMLTypeCode, typeName: kind.vietnameseName),
            subject: request.subject,
            signerInfo: .init(
                competence: Self.competence(ofPosition: request.signer.position), position: request.signer.position,
                fullName: request.signer.name),
            dueDate: "",
            priority: "0")
        let attachment = EdXMLEnvelope.Attachment(
            contentId: "1", contentType: "text/plain; charset=utf-8", description: request.subject,
            attachmentName: "\(kind.codeNotation)-\(request.dossierId).txt", contentTransferEncoded: "base64",
            content: content.base64EncodedString())
        let envelope = EdXMLEnvelope(
            header: .init(
                messageHeader: header,
                traceHeaderList: .init(traceHeaders: [
                    .init(organId: senderOrganId, timestamp: ContractCoding.formatTimestamp(sentAt))
                ])),
            body: .init(attachment: attachment))
        return Composed(envelope: envelope, content: content)
    }

    /// Thẩm quyền ký: a deputy signs for the head (KT., ký thay), the head for the organ (TM.,
    /// thay mặt).
    static func competence(ofPosition position: String) -> String {
        position.lowercased().hasPrefix("phó") ? "KT." : "TM."
    }
}
