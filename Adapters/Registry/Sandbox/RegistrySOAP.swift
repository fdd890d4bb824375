import Foundation
import XRoad

/// The registry's SOAP 1.1 envelopes as the registry reads and writes them. Names are local:
/// written with their namespace's prefix (soapenv, xrd, id, reg), read whatever prefixes the
/// caller chose.
enum RegistrySOAP {
    static let envelopeNamespace = RegistrySOAPNames.envelopeNamespace

    struct Envelope: Codable, Sendable {
        var header: Header?
        var body: Body

        enum CodingKeys: String, CodingKey {
            case header = "Header"
            case body = "Body"
        }
    }

    /// The X-Road header, echoed as received.
    typealias Header = XRoadHeader

    struct Body: Codable, Sendable {
        var lookupCitizen: LookupCitizen?
        var lookupCitizenResponse: LookupCitizenResponse?
        var fault: Fault?

        init(lookupCitizen: LookupCitizen? = nil, lookupCitizenResponse: LookupCitizenResponse? = nil, fault: Fault? = nil) {
            self.lookupCitizen = lookupCitizen
            self.lookupCitizenResponse = lookupCitizenResponse
            self.fault = fault
        }

        enum CodingKeys: String, CodingKey {
            case lookupCitizen = "LookupCitizen"
            case lookupCitizenResponse = "LookupCitizenResponse"
            case fault = "Fault"
        }
    }

    struct LookupCitizen: Codable, Sendable {
        var personalId: String
    }

    struct LookupCitizenResponse: Codable, Sendable {
        var citizen: RegisteredCitizen
    }

    struct Fault: Codable, Sendable {
        /// `soapenv:Client`: the request is wrong, or asks for someone the registry does not know.
        var faultcode: String
        var faultstring: String
    }

    static func encode(_ envelope: Envelope) throws -> Data {
        try RegistrySOAPNames.encode(envelope)
    }

    static func decode(_ data: Data) throws -> Envelope {
        try RegistrySOAPNames.decode(Envelope.self, from: data)
    }

    /// Why a request could not be decoded, naming the element: "missing soapenv:Header/xrd:client/id:memberCode".
    static func describe(_ error: any Error) -> String {
        RegistrySOAPNames.describe(error)
    }
}
