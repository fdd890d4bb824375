import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// `POST /registry/soap`: the LookupCitizen service. A known citizen is answered with the
/// X-Road header echoed and `reg:LookupCitizenResponse`; an unknown one with the SOAP fault
/// "citizen not found" (HTTP 500, as SOAP 1.1 answers faults); a request that is not XML, not a
/// SOAP 1.1 envelope or lacks what X-Road requires with a `soapenv:Client` fault and HTTP 400.
struct LookupCitizenEndpoint: Sendable {
    static let soapAction = "urn:govbus:registry:LookupCitizen"
    static let serviceCode = "LookupCitizen"

    let directory: CitizenDirectory

    struct Lookup {
        let header: RegistrySOAP.Header
        let personalId: String
    }

    /// What is wrong with a request, with its header when it was readable (faults echo it too).
    struct RequestProblem: Error {
        let message: String
        var header: RegistrySOAP.Header?
    }

    func respond(to request: Request) async throws -> Response {
        let body = Data(buffer: try await request.body.collect(upTo: 1 << 20))
        let lookup: Lookup
        do throws(RequestProblem) {
            lookup = try Self.read(body, soapAction: request.headers[Self.soapActionField])
        } catch {
            return try Self.fault(error.message, header: error.header, status: .badRequest)
        }
        guard let citizen = try await directory.citizen(personalId: lookup.personalId) else {
            return try Self.fault("citizen not found", header: lookup.header, status: .internalServerError)
        }
        let answer = RegistrySOAP.Envelope(
            header: lookup.header, body: .init(lookupCitizenResponse: .init(citizen: citizen)))
        return try Self.xml(answer, status: .ok)
    }

    static func read(_ body: Data, soapAction: String?) throws(RequestProblem) -> Lookup {
        if let problem = EnvelopeCheck.problem(in: body) { throw RequestProblem(message: problem) }
        let envelope: RegistrySOAP.Envelope
        do {
            envelope = try RegistrySOAP.decode(body)
        } catch {
            throw RequestProblem(message: RegistrySOAP.describe(error))
        }
        guard let header = envelope.header else {
            throw RequestProblem(
                message: "missing the X-Road header: soapenv:Header with xrd:client, xrd:service, xrd:id, "
                    + "xrd:protocolVersion and xrd:userId")
        }
        // SOAP 1.1 callers must name the action; quotes around it are usual.
        guard soapAction?.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) == Self.soapAction else {
            throw RequestProblem(message: "the SOAPAction HTTP header must be \"\(Self.soapAction)\"", header: header)
        }
        guard header.service.serviceCode == Self.serviceCode else {
            throw RequestProblem(
                message: "unknown service \(header.service.serviceCode): this registry serves \(Self.serviceCode)",
                header: header)
        }
        guard !header.id.isEmpty else {
            throw RequestProblem(message: "xrd:id must identify the request", header: header)
        }
        guard let personalId = envelope.body.lookupCitizen?.personalId else {
            throw RequestProblem(message: "the body holds no reg:LookupCitizen", header: header)
        }
        return Lookup(header: header, personalId: personalId)
    }

    private static let soapActionField = HTTPField.Name("SOAPAction")!

    private static func fault(
        _ message: String, header: RegistrySOAP.Header?, status: HTTPResponse.Status
    ) throws -> Response {
        let envelope = RegistrySOAP.Envelope(
            header: header, body: .init(fault: .init(faultcode: "soapenv:Client", faultstring: message)))
        return try xml(envelope, status: status)
    }

    private static func xml(_ envelope: RegistrySOAP.Envelope, status: HTTPResponse.Status) throws -> Response {
        Response(
            status: status, headers: [.contentType: "text/xml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try RegistrySOAP.encode(envelope))))
    }
}
