import Foundation
public import GovBusAdapterKit
import GovBusContracts
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
    private let documentSystem: ExternalSystem

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
        // Issuing a document means numbering and signing it: slower than a lookup.
        documentSystem = runtime.externalSystem(named: "the document system", policy: HTTPPolicy(timeout: .seconds(30)))
        self.runtime = runtime
    }

    public var handlers: MessageHandlers {
        MessageHandlers().on(DocumentIssueRequestedV1.self, issue)
    }

    /// The document's id is the request's message id: the system keeps one document per id.
    func issue(_ request: DocumentIssueRequestedV1, _ message: InboxMessage) async throws {
        let composed = composer.compose(request, documentId: message.messageID, sentAt: Date())
        let xmlRequest = OutboundRequest(
            url: documentsURL, headers: [("Content-Type", "application/xml; charset=utf-8")], body: try composed.envelope.xml())
        // A refusal comes as an edXML error with a 4xx: read it.
        let answer = try await documentSystem.send(
            xmlRequest, for: message, reads: { HTTPPolicy.verdict(status: $0) == .permanent })
        let outcome = try IssueOutcome.interpret(
            status: answer.status, body: answer.body, request: request, sentContent: composed.content, receivedAt: Date())
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
}

/// A setting that is present but cannot be used.
struct InvalidSetting: Error, CustomStringConvertible {
    let description: String
}
