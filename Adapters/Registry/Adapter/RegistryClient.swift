import Foundation
import GovBusAdapterKit
import GovBusContracts
import Logging

/// Calls the registry's LookupCitizen service: SOAP 1.1 over HTTP, with the X-Road header.
struct RegistryClient: Sendable {
    static let soapAction = "\"urn:govbus:registry:LookupCitizen\""

    /// `{system}/registry/soap`.
    let endpoint: String
    let peers: XRoadPeers
    let system: ExternalSystem
    let logger: Logger

    /// The citizen's record, or nil when the registry does not know the personal id. Throws
    /// `AdapterFailure.transient` when the registry is unreachable, slow, failing or answers
    /// something else than SOAP, `.permanent` when it refuses the request itself.
    func lookUp(personalId: String, for message: InboxMessage) async throws -> RegisteredIdentity? {
        let requestID = UUID().uuidString.lowercased()
        let envelope = RegistryEnvelope.lookup(personalId: personalId, header: peers.header(requestID: requestID))
        let request = OutboundRequest(
            url: endpoint, headers: [("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", Self.soapAction)],
            body: try RegistryXML.encode(envelope))
        // SOAP faults come with a 500 (the registry failed) or a 4xx (the request is wrong): read them.
        let answer = try await system.send(request, for: message, reads: { $0 == 500 || (400..<500).contains($0) })
        return try Self.outcome(
            status: answer.status, body: answer.body, requestID: requestID, personalId: personalId, logger: logger)
    }

    /// What an HTTP answer of the registry says. A SOAP fault saying the citizen is not found is
    /// an answer (nil), not a failure.
    static func outcome(
        status: Int, body: Data, requestID: String, personalId: String, logger: Logger
    ) throws(AdapterFailure) -> RegisteredIdentity? {
        func malformed(_ problem: String) -> AdapterFailure {
            logger.error(
                "the registry's answer is not the SOAP response expected",
                metadata: ["problem": "\(problem)", "status": "\(status)"])
            return .transient("malformed SOAP response from the registry: \(problem)")
        }
        let envelope: RegistryEnvelope
        do {
            envelope = try RegistryXML.decode(body)
        } catch {
            guard status == 200 else { throw failure(status: status) }
            throw malformed("\(error)")
        }
        if let fault = envelope.body.fault { return try answer(to: fault) }
        guard status == 200 else { throw failure(status: status) }
        guard let citizen = envelope.body.lookupCitizenResponse?.citizen else {
            throw malformed("the body holds no reg:LookupCitizenResponse with a reg:citizen")
        }
        guard envelope.header?.id == requestID else { throw malformed("the echoed xrd:id is not the request's") }
        guard citizen.personalId == personalId else { throw malformed("the citizen returned is not the one asked for") }
        guard let dateOfBirth = civilDate(citizen.dateOfBirth) else { throw malformed("reg:dateOfBirth is not YYYY-MM-DD") }
        guard (1...2).contains(citizen.eIdLevel) else {
            throw malformed("reg:eIdLevel \(citizen.eIdLevel) is neither 1 nor 2")
        }
        return RegisteredIdentity(fullName: citizen.fullName, dateOfBirth: dateOfBirth, eIdLevel: citizen.eIdLevel)
    }

    private static func answer(to fault: SOAPFault) throws(AdapterFailure) -> RegisteredIdentity? {
        if fault.kind == "Client" && fault.faultstring.lowercased().contains("not found") { return nil }
        if fault.kind == "Server" { throw AdapterFailure.transient("the registry failed: \(fault.faultstring)") }
        throw AdapterFailure.permanent("the registry refused the request (\(fault.faultcode)): \(fault.faultstring)")
    }

    /// An HTTP answer without a SOAP fault or response in it, classed as every connector does.
    private static func failure(status: Int) -> AdapterFailure {
        switch HTTPPolicy.verdict(status: status) {
        case .permanent: .permanent("the registry answered HTTP \(status) without a SOAP fault: is `system` its base URL?")
        case .answer, .transient: .transient("the registry answered HTTP \(status)")
        }
    }

    private static func civilDate(_ text: String) -> CivilDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]),
            let day = Int(parts[2]), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        return CivilDate(year: year, month: month, day: day)
    }
}
