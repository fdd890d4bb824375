import AsyncHTTPClient
import Foundation
public import GovBusAdapterKit
import GovBusContracts
public import Hummingbird
import Logging
import NIOCore
import NIOFoundationCompat

/// The document management system's connector: each `document.issue-requested.v1` becomes an
/// edXML package POSTed to `{system}/edxml/documents`; the system's answer becomes
/// `document.issued.v1`, or `document.issue-failed.v1` when it refuses the request.
///
/// Settings: `organName` and `senderOrganId` (the bus's organ, edXML From), `place` (địa danh
/// printed before the date).
public struct DocumentConnector: Connector {
    private let runtime: AdapterRuntime
    private let composer: IssueRequestComposer
    private let documentsURL: String

    public init(runtime: AdapterRuntime) throws {
        let configuration = runtime.configuration
        let senderOrganId = try configuration.setting("senderOrganId")
        guard AgencyCode.isValid(senderOrganId) else {
            throw InvalidSetting(
                description: "\(configuration.file): settings.senderOrganId '\(senderOrganId)' is not an agency code such as 000.00.00.H01")
        }
        composer = IssueRequestComposer(
            organName: try configuration.setting("organName"), senderOrganId: senderOrganId,
            place: try configuration.setting("place"))
        documentsURL = configuration.system.appendingPathComponent("edxml/documents").absoluteString
        self.runtime = runtime
    }

    public func handle(_ message: InboxMessage) async throws {
        guard message.type == DocumentIssueRequestedV1.messageType else {
            throw AdapterFailure.permanent("the document adapter handles \(DocumentIssueRequestedV1.messageType), not '\(message.type)'")
        }
        guard !message.messageID.isEmpty else {
            throw AdapterFailure.permanent("the request has no message id to make its document id from")
        }
        let request = try message.decode(DocumentIssueRequestedV1.self)
        let composed = composer.compose(request, documentId: message.messageID, sentAt: Date())
        let (status, body) = try await post(try composed.envelope.xml())
        let outcome = try IssueOutcome.interpret(
            status: status, body: body, request: request, sentContent: composed.content, receivedAt: Date())
        let answerID = Self.answerID(for: message.messageID)
        switch outcome {
        case .issued(let issued):
            try await runtime.send(issued, correlationID: request.dossierId, causationID: message.messageID, messageID: answerID)
            runtime.logger.info(
                "document issued",
                metadata: ["dossier": "\(request.dossierId)", "code": "\(issued.codeNumber)/\(issued.codeNotation)"])
        case .refused(let failed):
            try await runtime.send(failed, correlationID: request.dossierId, causationID: message.messageID, messageID: answerID)
            runtime.logger.warning(
                "the document system refused a document", metadata: ["dossier": "\(request.dossierId)", "reason": "\(failed.reason.message)"])
        }
    }

    /// The id of the answer to an inbox message, issued or failed: the same for every delivery of
    /// that message, so an answer stored again (a redelivered request) goes out once.
    static func answerID(for inboxMessageID: String) -> String {
        DerivedID.uuid("document.answer", inboxMessageID)
    }

    /// The document system calls nothing back: its answer comes with the request's response.
    public func addRoutes(to router: Router<BasicRequestContext>) {}

    private func post(_ xml: Data) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: documentsURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/xml; charset=utf-8")
        request.body = .bytes(ByteBuffer(bytes: xml))
        do {
            let response = try await runtime.http.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), Data(buffer: body))
        } catch {
            throw AdapterFailure.transient("the document system at \(documentsURL) did not answer: \(error)")
        }
    }
}

/// A setting that is present but cannot be used.
struct InvalidSetting: Error, CustomStringConvertible {
    let description: String
}
