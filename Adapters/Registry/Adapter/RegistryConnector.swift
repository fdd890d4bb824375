import Foundation
public import GovBusAdapterKit
import GovBusContracts
import Logging

/// The population registry's connector. Each identity verification request becomes a
/// LookupCitizen call over X-Road (SOAP 1.1 at `{system}/registry/soap`), and the registry's
/// record answers it: `registry.identity.verified.v1` when the declared full name and date of
/// birth are the registry's, `registry.identity.rejected.v1` when they differ or the personal id
/// is unknown. The answer's message id comes from the request's, so a redelivery answers once.
public struct RegistryConnector: Connector {
    private let runtime: AdapterRuntime
    private let registry: RegistryClient

    /// Reads the X-Road settings (see `XRoadPeers`); a missing one is an error naming it.
    public init(runtime: AdapterRuntime) throws {
        self.runtime = runtime
        registry = RegistryClient(
            endpoint: runtime.configuration.system.appendingPathComponent("registry/soap").absoluteString,
            peers: try XRoadPeers(configuration: runtime.configuration), system: runtime.externalSystem(named: "the registry", policy: HTTPPolicy(timeout: .seconds(10))),
            logger: runtime.logger)
    }

    public var handlers: MessageHandlers {
        MessageHandlers().on(IdentityVerificationRequestedV1.self, verify)
    }

    func verify(_ request: IdentityVerificationRequestedV1, _ message: InboxMessage) async throws {
        let registered = try await registry.lookUp(personalId: request.personalId, for: message)
        let answerID = Self.answerID(answering: message.messageID)
        var metadata: Logger.Metadata = [
            "dossier": "\(request.dossierId)", "personalId": "\(Self.masked(request.personalId))",
        ]
        switch IdentityCheck.answer(to: request, registered: registered, at: Date()) {
        case .verified(let verified):
            try await runtime.send(verified, correlationID: request.dossierId, causationID: message.messageID, messageID: answerID)
            runtime.logger.info("identity verified", metadata: metadata)
        case .rejected(let rejected):
            try await runtime.send(rejected, correlationID: request.dossierId, causationID: message.messageID, messageID: answerID)
            metadata["reason"] = "\(rejected.reason.code)"
            runtime.logger.info("identity rejected", metadata: metadata)
        }
    }

    /// The same for every delivery of a request, so that a redelivered request is answered once
    /// (the outbox keeps one message per id).
    static func answerID(answering inboxMessageID: String) -> String {
        DerivedID.uuid("registry-answer", inboxMessageID)
    }

    /// Personal ids are masked in logs: the province and the last two digits stay.
    static func masked(_ personalId: String) -> String {
        guard personalId.count == 12 else { return "***" }
        return String(personalId.prefix(3)) + String(repeating: "*", count: 7) + String(personalId.suffix(2))
    }
}
