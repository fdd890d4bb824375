import EdXML
import Foundation
import GovBusContracts
import GovBusSandboxKit
import Hummingbird
import Logging
import NIOFoundationCompat

/// What the document system does behind its routes: issue (number, sign, keep) the documents
/// edXML packages bring, and serve them back.
struct DocumentSystem: Sendable {
    let register: DocumentRegister
    let signer: DocumentSigner
    /// Without a trailing slash.
    let publicURL: String
    let logger: Logger

    /// `POST /edxml/documents`: 201 with the new document's `edXML:Status`, 200 with the same
    /// status for a document id issued before, 400 with an `edXML:Error`.
    func issue(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 8 << 20)
        let draft = try IssueDraft(xml: Data(buffer: body))
        let signature = try signer.signature(of: draft.content)
        let (entry, isNew) = try register.register(draft, signature: signature)
        if isNew {
            logger.info(
                "document issued",
                metadata: ["organ": "\(entry.organ)", "code": "\(entry.number)/\(entry.notation)", "year": "\(entry.year)"])
        }
        let xml = try EdXMLCoding.encode(IssueStatus(entry, retrievalURL: retrievalURL(of: entry)), root: "Status")
        return Response(
            status: isNew ? .created : .ok, headers: [.contentType: "application/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: xml)))
    }

    /// `GET /edxml/documents/:organ/:year/:number`: the document's bytes as issued.
    func document(organ: String, year: Int, number: Int) throws -> Response {
        guard let entry = try register.entry(organ: organ, year: year, number: number) else {
            throw HTTPError(.notFound, message: "no document \(number) of \(year) in the register of \(organ)")
        }
        return Response(
            status: .ok, headers: [.contentType: entry.contentType], body: .init(byteBuffer: ByteBuffer(bytes: entry.content)))
    }

    /// `GET /_sandbox/documents?organ=`: the register as JSON, without the documents' bytes.
    func listing(organ: String?) throws -> Response {
        let documents = try register.entries(organ: organ).map { entry in
            ListedDocument(
                organ: entry.organ, year: entry.year, codeNumber: String(entry.number), codeNotation: entry.notation,
                documentId: entry.documentId, dossierId: Self.dossierID(in: entry.content), subject: entry.subject,
                signer: .init(name: entry.signerName, position: entry.signerPosition),
                promulgationDate: entry.promulgationDate, contentType: entry.contentType, size: entry.content.count,
                sha256: entry.sha256, signature: entry.signature, retrievalUrl: retrievalURL(of: entry),
                storedAt: Self.timestamp(entry.storedAt))
        }
        return try SandboxResponse.json(documents)
    }

    /// The dossier a document was issued for, as its text names it (`Hồ sơ: <id>`): the register
    /// keeps no other link to it, and a chaos test counts the documents of each dossier with it.
    static func dossierID(in content: Data) -> String? {
        let prefix = "Hồ sơ: "
        return String(decoding: content, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix(prefix) }
            .map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
    }

    /// `GET /_sandbox/signing-key`: the public key that checks the documents' signatures.
    func publicKey() throws -> Response {
        try SandboxResponse.json(["publicKey": try signer.publicKey()])
    }

    private func retrievalURL(of entry: DocumentRegister.Entry) -> String {
        "\(publicURL)/edxml/documents/\(entry.organ)/\(entry.year)/\(entry.number)"
    }

    static func timestamp(_ date: Date) -> String {
        RFC3339.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}

/// The answer to an accepted package (`edXML:Status`).
struct IssueStatus: Encodable {
    let documentId: String
    let organId: String
    let codeNumber: String
    let codeNotation: String
    let promulgationDate: String
    let sha256: String
    let signature: String
    let retrievalUrl: String
    let issuedAt: String

    init(_ entry: DocumentRegister.Entry, retrievalURL: String) {
        documentId = entry.documentId
        organId = entry.organ
        codeNumber = String(entry.number)
        codeNotation = entry.notation
        promulgationDate = entry.promulgationDate
        sha256 = entry.sha256
        signature = entry.signature
        retrievalUrl = retrievalURL
        issuedAt = DocumentSystem.timestamp(entry.storedAt)
    }

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
}

/// A register entry in `GET /_sandbox/documents`.
struct ListedDocument: Codable, Hashable {
    struct Signer: Codable, Hashable {
        let name: String
        let position: String
    }

    let organ: String
    let year: Int
    let codeNumber: String
    let codeNotation: String
    let documentId: String
    /// The dossier named in the document's text, if it names one.
    let dossierId: String?
    let subject: String
    let signer: Signer
    let promulgationDate: String
    let contentType: String
    let size: Int
    let sha256: String
    let signature: String
    let retrievalUrl: String
    let storedAt: String
}
