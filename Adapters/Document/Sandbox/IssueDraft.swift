import EdXML
import Foundation

/// A document to issue, read from an edXML package and checked: the issuing organ (the package's
/// To), the notation, the promulgation date (whose year numbers it), the subject, the signer and
/// the document's bytes. Throws an `EdXMLRefusal` naming what is wrong.
struct IssueDraft: Sendable, Hashable {
    var organ: String
    var documentId: String
    var notation: String
    /// dd/MM/yyyy.
    var promulgationDate: String
    var year: Int
    var subject: String
    var signerName: String
    var signerPosition: String
    var contentType: String
    var content: Data

    init(xml: Data) throws {
        let envelope: IncomingEnvelope
        do {
            envelope = try EdXMLCoding.decode(IncomingEnvelope.self, from: xml)
        } catch DecodingError.keyNotFound(let key, let context) {
            // The decoder's path may already end with the missing element.
            let path = context.codingPath.last?.stringValue == key.stringValue ? context.codingPath : context.codingPath + [key]
            throw EdXMLRefusal.missing(Self.elementPath(path))
        } catch DecodingError.valueNotFound(_, let context) {
            throw EdXMLRefusal.missing(Self.elementPath(context.codingPath))
        } catch DecodingError.typeMismatch(_, let context) {
            throw EdXMLRefusal.invalid(Self.elementPath(context.codingPath), "has the wrong form")
        } catch {
            throw EdXMLRefusal(code: "malformed-xml", description: "the body is not a well-formed edXML package: \(error)")
        }
        let header = envelope.header.messageHeader
        func required(_ value: String?, _ element: String) throws -> String {
            let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !trimmed.isEmpty else { throw EdXMLRefusal.missing(element) }
            return trimmed
        }
        let from = try required(header.from.organId, "edXML:From/edXML:OrganId")
        let to = try required(header.to.organId, "edXML:To/edXML:OrganId")
        for (code, element) in [(from, "edXML:From/edXML:OrganId"), (to, "edXML:To/edXML:OrganId")]
        where !OrganCode.isValid(code) {
            throw EdXMLRefusal.invalid(element, "'\(code)' is not an organ code such as 000.00.15.H01")
        }
        let documentId = try required(header.documentId, "edXML:DocumentId")
        guard documentId.count <= 200 else { throw EdXMLRefusal.invalid("edXML:DocumentId", "is longer than 200 characters") }
        let date = try required(header.promulgationInfo.promulgationDate, "edXML:PromulgationInfo/edXML:PromulgationDate")
        guard let year = Self.year(ofEdXMLDate: date) else {
            throw EdXMLRefusal.invalid("edXML:PromulgationInfo/edXML:PromulgationDate", "'\(date)' is not a day written dd/MM/yyyy")
        }
        let notation = try required(header.code.codeNotation, "edXML:Code/edXML:CodeNotation")
        _ = try required(header.documentType.type, "edXML:DocumentType/edXML:Type")
        let subject = try required(header.subject, "edXML:Subject")
        let signerName = try required(header.signerInfo.fullName, "edXML:SignerInfo/edXML:FullName")
        let signerPosition = try required(header.signerInfo.position, "edXML:SignerInfo/edXML:Position")

        guard envelope.body.attachments.count == 1, let attachment = envelope.body.attachments.first else {
            throw EdXMLRefusal.invalid("edXML:edXMLBody", "must hold exactly one edXML:Attachment, not \(envelope.body.attachments.count)")
        }
        let encoding = attachment.contentTransferEncoded?.trimmingCharacters(in: .whitespaces).lowercased() ?? "base64"
        guard encoding == "base64" else {
            throw EdXMLRefusal.invalid("edXML:Attachment/edXML:ContentTransferEncoded", "'\(encoding)' is not base64")
        }
        // Some senders wrap base64 in lines; nothing else may be in it.
        guard let content = Data(base64Encoded: attachment.content.filter { !$0.isWhitespace }), !content.isEmpty else {
            throw EdXMLRefusal(code: "content-not-base64", description: "edXML:Attachment/edXML:Content is not base64 of a non-empty document")
        }

        self.organ = to
        self.documentId = documentId
        self.notation = notation
        promulgationDate = date
        self.year = year
        self.subject = subject
        self.signerName = signerName
        self.signerPosition = signerPosition
        contentType = attachment.contentType?.trimmingCharacters(in: .whitespaces).nonEmpty ?? "application/octet-stream"
        self.content = content
    }

    /// `edXML:edXMLHeader/edXML:MessageHeader/edXML:Subject`, without array positions.
    private static func elementPath(_ path: [any CodingKey]) -> String {
        path.filter { $0.intValue == nil }.map { "edXML:\($0.stringValue)" }.joined(separator: "/")
    }

    /// The year of a real day written dd/MM/yyyy.
    private static func year(ofEdXMLDate text: String) -> Int? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard text.count == 10, parts.count == 3, let day = parts[0], let month = parts[1], let year = parts[2] else {
            return nil
        }
        let components = DateComponents(year: year, month: month, day: day)
        return components.isValidDate(in: Calendar(identifier: .gregorian)) ? year : nil
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}

/// What the document system reads of an edXML package; it ignores the rest.
private struct IncomingEnvelope: Decodable {
    var header: Header
    var body: Body

    enum CodingKeys: String, CodingKey {
        case header = "edXMLHeader"
        case body = "edXMLBody"
    }

    struct Header: Decodable {
        var messageHeader: MessageHeader

        enum CodingKeys: String, CodingKey {
            case messageHeader = "MessageHeader"
        }
    }

    struct MessageHeader: Decodable {
        var from: Organ
        var to: Organ
        var documentId: String
        var code: Code
        var promulgationInfo: PromulgationInfo
        var documentType: DocumentTypeInfo
        var subject: String
        var signerInfo: SignerInfo

        enum CodingKeys: String, CodingKey {
            case from = "From"
            case to = "To"
            case documentId = "DocumentId"
            case code = "Code"
            case promulgationInfo = "PromulgationInfo"
            case documentType = "DocumentType"
            case subject = "Subject"
            case signerInfo = "SignerInfo"
        }
    }

    struct Organ: Decodable {
        var organId: String

        enum CodingKeys: String, CodingKey {
            case organId = "OrganId"
        }
    }

    struct Code: Decodable {
        var codeNotation: String

        enum CodingKeys: String, CodingKey {
            case codeNotation = "CodeNotation"
        }
    }

    struct PromulgationInfo: Decodable {
        var promulgationDate: String

        enum CodingKeys: String, CodingKey {
            case promulgationDate = "PromulgationDate"
        }
    }

    struct DocumentTypeInfo: Decodable {
        var type: String

        enum CodingKeys: String, CodingKey {
            case type = "Type"
        }
    }

    struct SignerInfo: Decodable {
        var position: String
        var fullName: String

        enum CodingKeys: String, CodingKey {
            case position = "Position"
            case fullName = "FullName"
        }
    }

    struct Body: Decodable {
        var attachments: [Attachment]

        enum CodingKeys: String, CodingKey {
            case attachments = "Attachment"
        }
    }

    struct Attachment: Decodable {
        var contentType: String?
        var contentTransferEncoded: String?
        var content: String

        enum CodingKeys: String, CodingKey {
            case contentType = "ContentType"
            case contentTransferEncoded = "ContentTransferEncoded"
            case content = "Content"
        }
    }
}
