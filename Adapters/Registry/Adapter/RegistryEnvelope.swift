import XRoad
/// A SOAP 1.1 envelope of the registry (`soapenv:Envelope`): the X-Road header and a body holding
/// one of the request, the answer or a fault. The names are local; `RegistryXML` writes them
/// with their namespace's prefix.
struct RegistryEnvelope: Codable, Sendable, Hashable {
    var header: XRoadHeader?
    var body: Body

    enum CodingKeys: String, CodingKey {
        case header = "Header"
        case body = "Body"
    }

    struct Body: Codable, Sendable, Hashable {
        var lookupCitizen: LookupCitizen?
        var lookupCitizenResponse: LookupCitizenResponse?
        var fault: SOAPFault?

        init(
            lookupCitizen: LookupCitizen? = nil, lookupCitizenResponse: LookupCitizenResponse? = nil, fault: SOAPFault? = nil
        ) {
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

    /// The request for one citizen.
    static func lookup(personalId: String, header: XRoadHeader) -> RegistryEnvelope {
        RegistryEnvelope(header: header, body: Body(lookupCitizen: LookupCitizen(personalId: personalId)))
    }
}

/// `reg:LookupCitizen`.
struct LookupCitizen: Codable, Sendable, Hashable {
    var personalId: String
}

/// `reg:LookupCitizenResponse`.
struct LookupCitizenResponse: Codable, Sendable, Hashable {
    var citizen: RegistryCitizen
}

/// `reg:citizen`: the registry's record as written on the wire (`RegisteredIdentity` is its checked form).
struct RegistryCitizen: Codable, Sendable, Hashable {
    var personalId: String
    var fullName: String
    /// YYYY-MM-DD.
    var dateOfBirth: String
    var eIdLevel: Int
}

/// `soapenv:Fault` of SOAP 1.1; its children have no namespace.
struct SOAPFault: Codable, Sendable, Hashable {
    /// A qualified name: `soapenv:Client` (the request is wrong), `soapenv:Server` (the registry failed).
    var faultcode: String
    var faultstring: String

    /// The code without its prefix, and without the dotted detail X-Road adds (`Server.ServerProxy`).
    var kind: String {
        let local = faultcode.split(separator: ":").last.map(String.init) ?? faultcode
        return local.split(separator: ".").first.map(String.init) ?? local
    }
}
