import EdXML
import Foundation

/// The edXML package that asks the document system to number, sign and issue one document:
/// the header says what it is (who sends it to whom, its notation, type, subject and signer),
/// the body carries the document itself as a base64 attachment.
struct EdXMLEnvelope: Codable, Hashable {
    var header: Header
    var body: Body

    enum CodingKeys: String, CodingKey {
        case header = "edXMLHeader"
        case body = "edXMLBody"
    }

    struct Header: Codable, Hashable {
        var messageHeader: MessageHeader
        var traceHeaderList: TraceHeaderList

        enum CodingKeys: String, CodingKey {
            case messageHeader = "MessageHeader"
            case traceHeaderList = "TraceHeaderList"
        }
    }

    struct MessageHeader: Codable, Hashable {
        var from: Organ
        var to: Organ
        /// Unique per document: the system answers the same number for the same id.
        var documentId: String
        var code: Code
        var promulgationInfo: PromulgationInfo
        var documentType: DocumentTypeInfo
        var subject: String
        var signerInfo: SignerInfo
        /// dd/MM/yyyy, or empty when the recipient has no deadline.
        var dueDate: String
        /// 0 (normal) to 3 (most urgent).
        var priority: String

        enum CodingKeys: String, CodingKey {
            case from = "From"
            case to = "To"
            case documentId = "DocumentId"
            case code = "Code"
            case promulgationInfo = "PromulgationInfo"
            case documentType = "DocumentType"
            case subject = "Subject"
            case signerInfo = "SignerInfo"
            case dueDate = "DueDate"
            case priority = "Priority"
        }
    }

    struct Organ: Codable, Hashable {
        var organId: String
        var organName: String

        enum CodingKeys: String, CodingKey {
            case organId = "OrganId"
            case organName = "OrganName"
        }
    }

    struct Code: Codable, Hashable {
        /// Empty in a request: the system gives the number.
        var codeNumber: String
        var codeNotation: String

        enum CodingKeys: String, CodingKey {
            case codeNumber = "CodeNumber"
            case codeNotation = "CodeNotation"
        }
    }

    struct PromulgationInfo: Codable, Hashable {
        var place: String
        /// dd/MM/yyyy.
        var promulgationDate: String

        enum CodingKeys: String, CodingKey {
            case place = "Place"
            case promulgationDate = "PromulgationDate"
        }
    }

    struct DocumentTypeInfo: Codable, Hashable {
        var type: String
        var typeName: String

        enum CodingKeys: String, CodingKey {
            case type = "Type"
            case typeName = "TypeName"
        }
    }

    struct SignerInfo: Codable, Hashable {
        /// Thẩm quyền ký: TM. (on behalf of the organ) or KT. (on behalf of its head).
        var competence: String
        var position: String
        var fullName: String

        enum CodingKeys: String, CodingKey {
            case competence = "Competence"
            case position = "Position"
            case fullName = "FullName"
        }
    }

    struct TraceHeaderList: Codable, Hashable {
        var traceHeaders: [TraceHeader]

        enum CodingKeys: String, CodingKey {
            case traceHeaders = "TraceHeader"
        }
    }

    /// An organ the package went through, and when.
    struct TraceHeader: Codable, Hashable {
        var organId: String
        var timestamp: String

        enum CodingKeys: String, CodingKey {
            case organId = "OrganId"
            case timestamp = "Timestamp"
        }
    }

    struct Body: Codable, Hashable {
        var attachment: Attachment

        enum CodingKeys: String, CodingKey {
            case attachment = "Attachment"
        }
    }

    struct Attachment: Codable, Hashable {
        var contentId: String
        var contentType: String
        var description: String
        var attachmentName: String
        var contentTransferEncoded: String
        /// The document's bytes, base64.
        var content: String

        enum CodingKeys: String, CodingKey {
            case contentId = "ContentId"
            case contentType = "ContentType"
            case description = "Description"
            case attachmentName = "AttachmentName"
            case contentTransferEncoded = "ContentTransferEncoded"
            case content = "Content"
        }
    }

    func xml() throws -> Data {
        try EdXMLCoding.encode(self, root: "edXMLEnvelope")
    }

    init(header: Header, body: Body) {
        self.header = header
        self.body = body
    }

    init(xml: Data) throws {
        self = try EdXMLCoding.decode(Self.self, from: xml)
    }
}
