import EdXML
import Crypto
import Foundation
import GovBus
import GovBusAdapterKit
import GovBusContracts
import GovBusSandboxKit
import Hummingbird
import HummingbirdTesting
import Logging
import NIOFoundationCompat
import Testing

@testable import DocumentAdapter
@testable import DocumentSandbox

@Suite("Document adapter (edXML) and sandbox, without a broker")
struct DocumentTests {
    static let composer = IssueRequestComposer(
        organName: "Cổng tích hợp GovBus", senderOrganId: "000.00.00.H01", place: "Hà Nội")

    /// 20:00 UTC on 21 November is already the 22nd in Vietnam.
    static func request(
        organ: String = "000.00.04.H01", type: DocumentType = .certificate, at timestamp: String = "2025-11-21T20:00:00Z"
    ) throws -> DocumentIssueRequestedV1 {
        DocumentIssueRequestedV1(
            dossierId: "H01.04-251121-0007", documentType: type, issuingOrganCode: organ,
            recipientOrganCode: "000.00.00.H01",
            subject: "Cấp Giấy chứng nhận đăng ký hộ kinh doanh cho hộ kinh doanh Mai Anh & con",
            signer: Signer(name: "Lê Văn Dũng", position: "Phó Chủ tịch"),
            requestedAt: try #require(ContractCoding.parseTimestamp(timestamp)))
    }

    /// Compiled once for all the tests: compiling the catalogue costs CPU the other tests need.
    static let compiledSchemas = Result {
        try SchemaCatalog(
            folder: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Schemas"))
    }

    static func schemas() throws -> SchemaCatalog {
        try compiledSchemas.get()
    }

    static func schemaErrors(_ message: some GovBusMessage, in catalog: SchemaCatalog) throws -> [String] {
        let schema = try #require(catalog.schema(for: type(of: message).messageType))
        return schema.validate(try JSONValue(parsing: try message.jsonBody())).map(\.description)
    }

    static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: The edXML package

    @Test("The envelope is written with edXML's element names under the edXML prefix and reads back the same")
    func envelopeCoding() throws {
        let composed = Self.composer.compose(try Self.request(), documentId: "doc-1", sentAt: Date())
        let xml = try composed.envelope.xml()
        let text = String(decoding: xml, as: UTF8.self)
        #expect(text.hasPrefix(#"<?xml version="1.0" encoding="UTF-8"?>"#))
        #expect(text.contains(#"<edXML:edXMLEnvelope xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">"#))
        let elements = [
            "edXMLHeader", "MessageHeader", "From", "To", "OrganId", "OrganName", "DocumentId", "Code", "CodeNotation",
            "PromulgationInfo", "Place", "PromulgationDate", "DocumentType", "Type", "TypeName", "Subject", "SignerInfo",
            "Competence", "Position", "FullName", "Priority", "TraceHeaderList", "TraceHeader", "Timestamp", "edXMLBody",
            "Attachment", "ContentId", "ContentType", "Description", "AttachmentName", "ContentTransferEncoded", "Content",
        ]
        for element in elements {
            #expect(text.contains("<edXML:\(element)>"), "no <edXML:\(element)>")
        }
        #expect(text.contains("<edXML:CodeNumber"))
        #expect(text.contains("<edXML:DueDate"))
        #expect(text.contains("Mai Anh &amp; con"))
        #expect(try EdXMLEnvelope(xml: xml) == composed.envelope)

        // Another prefix for the same namespace reads the same.
        let otherPrefix = text.replacingOccurrences(of: "edXML:", with: "ed:").replacingOccurrences(
            of: "xmlns:edXML=", with: "xmlns:ed=")
        #expect(try EdXMLEnvelope(xml: Data(otherPrefix.utf8)) == composed.envelope)
    }

    @Test("The request becomes the package: GovBus to the issuing organ, the inbox id as document id, the document in base64")
    func composition() throws {
        let request = try Self.request()
        let composed = Self.composer.compose(request, documentId: "3f1c0e44-0000-4000-8000-000000000001", sentAt: Date())
        let header = composed.envelope.header.messageHeader
        #expect(header.from == EdXMLEnvelope.Organ(organId: "000.00.00.H01", organName: "Cổng tích hợp GovBus"))
        #expect(header.to.organId == "000.00.04.H01")
        #expect(header.documentId == "3f1c0e44-0000-4000-8000-000000000001")
        #expect(header.code == EdXMLEnvelope.Code(codeNumber: "", codeNotation: "GCN-UBND"))
        #expect(header.promulgationInfo == EdXMLEnvelope.PromulgationInfo(place: "Hà Nội", promulgationDate: "22/11/2025"))
        #expect(header.documentType == EdXMLEnvelope.DocumentTypeInfo(type: "2", typeName: "Giấy chứng nhận"))
        #expect(header.signerInfo == EdXMLEnvelope.SignerInfo(competence: "KT.", position: "Phó Chủ tịch", fullName: "Lê Văn Dũng"))
        #expect(composed.envelope.header.traceHeaderList.traceHeaders.map(\.organId) == ["000.00.00.H01"])

        let attachment = composed.envelope.body.attachment
        #expect(attachment.contentType == "text/plain; charset=utf-8")
        #expect(attachment.contentTransferEncoded == "base64")
        #expect(Data(base64Encoded: attachment.content) == composed.content)
        let text = String(decoding: composed.content, as: UTF8.self)
        for part in [request.subject, "H01.04-251121-0007", "Lê Văn Dũng", "PHÓ CHỦ TỊCH", "Hà Nội, ngày 22 tháng 11 năm 2025", "GIẤY CHỨNG NHẬN"] {
            #expect(text.contains(part), "the document lacks \(part)")
        }

        // A redelivery (later, another sending time) sends the very same bytes.
        let again = Self.composer.compose(request, documentId: header.documentId, sentAt: Date().addingTimeInterval(86_400))
        #expect(again.content == composed.content)
        #expect(IssueRequestComposer.competence(ofPosition: "Chủ tịch") == "TM.")
    }

    @Test("Each document type has its notation and edXML type number; every notation fits the contract's pattern")
    func notations() {
        #expect(DocumentType.certificate.codeNotation == "GCN-UBND")
        #expect(DocumentType.decision.codeNotation == "QĐ-UBND")
        #expect(DocumentType.civilStatusExtract.codeNotation == "TLKS-UBND")
        #expect(DocumentType.permit.codeNotation == "GP-UBND")
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ0123456789")
        for type in DocumentType.allCases {
            let groups = type.codeNotation.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.allSatisfy { !$0.isEmpty && $0.allSatisfy(allowed.contains) }, "\(type.codeNotation)")
            #expect(!type.vietnameseName.isEmpty)
        }
        #expect(Set(DocumentType.allCases.map(\.edXMLTypeCode)).count == DocumentType.allCases.count)
    }

    @Test("Dates: the Vietnamese calendar day of an instant, written and read dd/MM/yyyy; impossible days refused")
    func dates() {
        let lateEvening = Date(timeIntervalSince1970: 1_763_755_200)  // 2025-11-21T20:00:00Z
        #expect(VietnamCalendar.civilDate(of: lateEvening) == CivilDate(year: 2025, month: 11, day: 22))
        #expect(VietnamCalendar.edXMLDate(CivilDate(year: 2026, month: 1, day: 5)) == "05/01/2026")
        #expect(VietnamCalendar.civilDate(edXML: "05/01/2026") == CivilDate(year: 2026, month: 1, day: 5))
        #expect(VietnamCalendar.civilDate(edXML: "31/02/2026") == nil)
        #expect(VietnamCalendar.civilDate(edXML: "2026-01-05") == nil)
    }

    @Test("The answer's message id is a UUID derived from the inbox message id: the same on every delivery")
    func answerIDs() {
        let first = DocumentConnector.answerID(for: "a1b2")
        #expect(first == DocumentConnector.answerID(for: "a1b2"))
        #expect(first != DocumentConnector.answerID(for: "a1b3"))
        #expect(UUID(uuidString: first) != nil)
    }

    @Test("Agency codes as the contract allows them")
    func agencyCodes() {
        #expect(AgencyCode.isValid("000.00.00.H01"))
        #expect(AgencyCode.isValid("G22.99"))
        #expect(!AgencyCode.isValid("000.00.00.h01"))
        #expect(!AgencyCode.isValid("000..00"))
        #expect(!AgencyCode.isValid(""))
        #expect(OrganCode.isValid("000.00.04.H01"))
        #expect(!OrganCode.isValid("../x"))
    }

    // MARK: The system's answers

    static func status(
        for content: Data, number: String = "125", retrievalUrl: String = "https://vanban.test/edxml/documents/000.00.04.H01/2025/125"
    ) throws -> Data {
        try EdXMLCoding.encode(
            EdXMLIssueStatus(
                documentId: "doc-1", organId: "000.00.04.H01", codeNumber: number, codeNotation: "GCN-UBND",
                promulgationDate: "22/11/2025", sha256: hex(content), signature: Data(repeating: 7, count: 64).base64EncodedString(),
                retrievalUrl: retrievalUrl, issuedAt: "2025-11-22T01:02:03Z"),
            root: EdXMLIssueStatus.rootElement)
    }

    /// "transient", "permanent", or nil when it did not fail.
    static func failureKind(_ interpret: () throws -> IssueOutcome) -> String? {
        do {
            _ = try interpret()
            return nil
        } catch AdapterFailure.transient(_) {
            return "transient"
        } catch AdapterFailure.permanent(_) {
            return "permanent"
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("Answers: a status becomes document.issued.v1, an edXML error document.issue-failed.v1, the rest failures")
    func answers() throws {
        let request = try Self.request()
        let content = Self.composer.compose(request, documentId: "doc-1", sentAt: Date()).content
        func interpret(_ status: Int, _ body: Data, sent: Data? = nil) throws -> IssueOutcome {
            try IssueOutcome.interpret(
                status: status, body: body, request: request, sentContent: sent ?? content, receivedAt: Date())
        }

        guard case .issued(let issued) = try interpret(201, try Self.status(for: content)) else {
            Issue.record("a status is not an issued document")
            return
        }
        #expect(issued.codeNumber == "125")
        #expect(issued.codeNotation == "GCN-UBND")
        #expect(issued.issuingOrganCode == "000.00.04.H01")
        #expect(issued.promulgationDate == CivilDate(year: 2025, month: 11, day: 22))
        #expect(issued.sha256 == Self.hex(content))
        #expect(issued.retrievalUrl.absoluteString == "https://vanban.test/edxml/documents/000.00.04.H01/2025/125")
        #expect(ContractCoding.formatTimestamp(issued.issuedAt) == "2025-11-22T01:02:03Z")

        // Stored bytes other than those sent, a number that is not one, an http address: retried.
        #expect(Self.failureKind { try interpret(200, try Self.status(for: content), sent: Data("other".utf8)) } == "permanent")
        #expect(Self.failureKind { try interpret(200, try Self.status(for: content, number: "12a")) } == "permanent")
        #expect(Self.failureKind { try interpret(200, try Self.status(for: content, retrievalUrl: "http://x/1")) } == "permanent")
        #expect(Self.failureKind { try interpret(200, Data("<html/>".utf8)) } == "transient")

        let refusal = try EdXMLCoding.encode(
            EdXMLError(errorCode: "missing-field", description: "edXML:Subject is missing or empty"),
            root: EdXMLError.rootElement)
        guard case .refused(let failed) = try interpret(400, refusal) else {
            Issue.record("an edXML error is not a refusal")
            return
        }
        #expect(failed.dossierId == request.dossierId)
        #expect(failed.reason.code == "edxml-rejected")
        #expect(failed.reason.message.contains("edXML:Subject is missing or empty"))

        #expect(Self.failureKind { try interpret(503, Data()) } == "transient")
        #expect(Self.failureKind { try interpret(429, Data()) } == "transient")
        #expect(Self.failureKind { try interpret(404, Data("Not Found".utf8)) } == "permanent")
    }

    // MARK: The sandbox

    static let publicURL = "https://vanban.test/"
    static let seed = Data(SHA256.hash(data: Data("document-sandbox-test".utf8))).base64EncodedString()

    static func withSandbox(_ body: @Sendable (any TestClientProtocol, SandboxFaults) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("document-sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let faults = SandboxFaults()
        let app = try await DocumentSandbox.application(
            options: .init(dataDirectory: folder, publicURL: publicURL, signingSeed: seed), faults: faults,
            logger: Logger(label: "document-sandbox-test"))
        try await app.test(.router) { client in try await body(client, faults) }
    }

    static func post(_ xml: Data, to client: any TestClientProtocol) async throws -> TestResponse {
        try await client.execute(
            uri: "/edxml/documents", method: .post, headers: [.contentType: "application/xml"], body: ByteBuffer(bytes: xml))
    }

    static func issue(
        _ request: DocumentIssueRequestedV1, documentId: String, to client: any TestClientProtocol
    ) async throws -> (status: HTTPResponse.Status, answer: EdXMLIssueStatus) {
        let xml = try composer.compose(request, documentId: documentId, sentAt: Date()).envelope.xml()
        let response = try await post(xml, to: client)
        return (response.status, try EdXMLCoding.decode(EdXMLIssueStatus.self, from: Data(buffer: response.body)))
    }

    static func refusal(of response: TestResponse) throws -> EdXMLError {
        #expect(response.status == .badRequest)
        #expect(response.headers[.contentType]?.hasPrefix("application/xml") == true)
        return try EdXMLCoding.decode(EdXMLError.self, from: Data(buffer: response.body))
    }

    @Test("The sandbox numbers per issuing organ and year, each register from 1")
    func numbering() async throws {
        try await Self.withSandbox { client, _ in
            let organA = try Self.request(organ: "000.00.04.H01")
            let organB = try Self.request(organ: "000.00.15.H01")
            let nextYear = try Self.request(organ: "000.00.04.H01", at: "2026-01-02T03:00:00Z")
            let answers = [
                try await Self.issue(organA, documentId: "a-1", to: client),
                try await Self.issue(organA, documentId: "a-2", to: client),
                try await Self.issue(organB, documentId: "b-1", to: client),
                try await Self.issue(nextYear, documentId: "a-2026-1", to: client),
                try await Self.issue(organB, documentId: "b-2", to: client),
            ]
            #expect(answers.map { $0.status } == [HTTPResponse.Status](repeating: .created, count: 5))
            #expect(answers.map { $0.answer.codeNumber } == ["1", "2", "1", "1", "2"])
            #expect(answers.map { $0.answer.organId } == ["000.00.04.H01", "000.00.04.H01", "000.00.15.H01", "000.00.04.H01", "000.00.15.H01"])
            #expect(answers[3].answer.promulgationDate == "02/01/2026")
            #expect(answers[3].answer.retrievalUrl == "https://vanban.test/edxml/documents/000.00.04.H01/2026/1")

            try await client.execute(uri: "/_sandbox/documents?organ=000.00.15.H01", method: .get) { response in
                #expect(response.status == .ok)
                let listed = try JSONDecoder().decode([ListedDocument].self, from: Data(buffer: response.body))
                #expect(listed.map(\.documentId) == ["b-1", "b-2"])
                #expect(listed.map(\.codeNumber) == ["1", "2"])
                #expect(listed.first?.signer == ListedDocument.Signer(name: "Lê Văn Dũng", position: "Phó Chủ tịch"))
            }
        }
    }

    @Test("The same document id gets the same number, digest and signature back, and is stored once")
    func idempotence() async throws {
        try await Self.withSandbox { client, _ in
            let request = try Self.request()
            let first = try await Self.issue(request, documentId: "inbox-42", to: client)
            let again = try await Self.issue(request, documentId: "inbox-42", to: client)
            #expect(first.status == .created)
            #expect(again.status == .ok)
            #expect(again.answer == first.answer)
            let other = try await Self.issue(request, documentId: "inbox-43", to: client)
            #expect(other.answer.codeNumber == "2")
            try await client.execute(uri: "/_sandbox/documents", method: .get) { response in
                let listed = try JSONDecoder().decode([ListedDocument].self, from: Data(buffer: response.body))
                #expect(listed.map(\.documentId) == ["inbox-42", "inbox-43"])
            }
        }
    }

    @Test("The sandbox serves the stored document: its SHA-256 is the answer's and its signature checks with the sandbox's key")
    func retrieval() async throws {
        try await Self.withSandbox { client, _ in
            let composed = Self.composer.compose(try Self.request(), documentId: "doc-r", sentAt: Date())
            let response = try await Self.post(try composed.envelope.xml(), to: client)
            let answer = try EdXMLCoding.decode(EdXMLIssueStatus.self, from: Data(buffer: response.body))
            #expect(answer.sha256 == Self.hex(composed.content))
            let path = try #require(URL(string: answer.retrievalUrl)).path
            #expect(path == "/edxml/documents/000.00.04.H01/2025/1")

            let stored = try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
                return Data(buffer: response.body)
            }
            #expect(Self.hex(stored) == answer.sha256)
            #expect(stored == composed.content)

            let publicKey = try await client.execute(uri: "/_sandbox/signing-key", method: .get) { response in
                let body = try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))
                return try Curve25519.Signing.PublicKey(rawRepresentation: try #require(Data(base64Encoded: body["publicKey"] ?? "")))
            }
            let signature = try #require(Data(base64Encoded: answer.signature))
            #expect(publicKey.isValidSignature(signature, for: stored))
            #expect(!publicKey.isValidSignature(signature, for: Data("changed".utf8)))

            try await client.execute(uri: "/edxml/documents/000.00.04.H01/2025/2", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("The sandbox refuses with 400 and an edXML error: malformed XML, a missing field, content not base64, a bad organ")
    func refusals() async throws {
        try await Self.withSandbox { client, _ in
            let malformed = try Self.refusal(of: try await Self.post(Data("<edXML:edXMLEnvelope><unclosed>".utf8), to: client))
            #expect(malformed.errorCode == "malformed-xml")
            let notXML = try Self.refusal(of: try await Self.post(Data(#"{"json": true}"#.utf8), to: client))
            #expect(notXML.errorCode == "malformed-xml")

            let composed = Self.composer.compose(try Self.request(), documentId: "doc-x", sentAt: Date())
            let text = String(decoding: try composed.envelope.xml(), as: UTF8.self)
            let withoutSubject = text.replacingOccurrences(
                of: "<edXML:Subject>[^<]*</edXML:Subject>", with: "", options: .regularExpression)
            #expect(withoutSubject != text)
            let missing = try Self.refusal(of: try await Self.post(Data(withoutSubject.utf8), to: client))
            #expect(missing.errorCode == "missing-field")
            #expect(missing.description.contains("edXML:Subject"))

            var emptySigner = composed.envelope
            emptySigner.header.messageHeader.signerInfo.fullName = " "
            let empty = try Self.refusal(of: try await Self.post(try emptySigner.xml(), to: client))
            #expect(empty.errorCode == "missing-field")
            #expect(empty.description.contains("edXML:FullName"))

            var notBase64 = composed.envelope
            notBase64.body.attachment.content = "this is not base64!"
            #expect(try Self.refusal(of: try await Self.post(try notBase64.xml(), to: client)).errorCode == "content-not-base64")

            var badOrgan = composed.envelope
            badOrgan.header.messageHeader.to.organId = "../../etc"
            #expect(try Self.refusal(of: try await Self.post(try badOrgan.xml(), to: client)).errorCode == "invalid-field")

            var badDate = composed.envelope
            badDate.header.messageHeader.promulgationInfo.promulgationDate = "2025-11-22"
            #expect(try Self.refusal(of: try await Self.post(try badDate.xml(), to: client)).errorCode == "invalid-field")

            try await client.execute(uri: "/_sandbox/documents", method: .get) { response in
                #expect(String(buffer: response.body) == "[]")
            }
        }
    }

    @Test("Faults: with failureRate 1 the system answers 503, while /health and /_sandbox stay up")
    func faults() async throws {
        try await Self.withSandbox { client, faults in
            try await client.execute(
                uri: "/_sandbox/faults", method: .put, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"latencyMilliseconds":0,"failureRate":1,"timeoutRate":0,"hangSeconds":60}"#)
            ) { response in
                #expect(response.status == .ok)
            }
            #expect(faults.current.failureRate == 1)
            let xml = try Self.composer.compose(try Self.request(), documentId: "doc-f", sentAt: Date()).envelope.xml()
            #expect(try await Self.post(xml, to: client).status == .serviceUnavailable)
            try await client.execute(uri: "/edxml/documents/000.00.04.H01/2025/1", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"up"}"#)
            }
            try await client.execute(uri: "/_sandbox/documents", method: .get) { response in
                #expect(response.status == .ok)
            }

            faults.current = .init()
            #expect(try await Self.post(xml, to: client).status == .created)
        }
    }

    // MARK: Both sides together

    @Test("Adapter and sandbox together: the answers become messages that satisfy the contracts' schemas")
    func roundTrip() async throws {
        let catalog = try Self.schemas()
        try await Self.withSandbox { client, _ in
            let request = try Self.request(type: .decision)
            let composed = Self.composer.compose(request, documentId: "inbox-7", sentAt: Date())
            let response = try await Self.post(try composed.envelope.xml(), to: client)
            let outcome = try IssueOutcome.interpret(
                status: Int(response.status.code), body: Data(buffer: response.body), request: request,
                sentContent: composed.content, receivedAt: Date())
            guard case .issued(let issued) = outcome else {
                Issue.record("the sandbox's answer is not an issued document: \(outcome)")
                return
            }
            #expect(issued.codeNumber == "1")
            #expect(issued.codeNotation == "QĐ-UBND")
            #expect(try Self.schemaErrors(issued, in: catalog) == [])

            var invalid = composed.envelope
            invalid.header.messageHeader.subject = ""
            let refused = try await Self.post(try invalid.xml(), to: client)
            let refusal = try IssueOutcome.interpret(
                status: Int(refused.status.code), body: Data(buffer: refused.body), request: request,
                sentContent: composed.content, receivedAt: Date())
            guard case .refused(let failed) = refusal else {
                Issue.record("the sandbox's refusal is not a failed issue: \(refusal)")
                return
            }
            #expect(try Self.schemaErrors(failed, in: catalog) == [])
        }
    }
}
