import Foundation
import XMLCoder

/// The registry's SOAP 1.1 envelopes as the registry reads and writes them. Names are local:
/// written with their namespace's prefix (soapenv, xrd, id, reg), read whatever prefixes the
/// caller chose.
enum RegistrySOAP {
    static let envelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    static let namespaces = [
        "xmlns:soapenv": RegistrySOAP.envelopeNamespace,
        "xmlns:xrd": "http://x-road.eu/xsd/xroad.xsd",
        "xmlns:id": "http://x-road.eu/xsd/identifiers",
        "xmlns:reg": "urn:govbus:registry",
    ]

    /// The prefix of each name these messages use. A fault's children have none (SOAP 1.1).
    private static let prefixes: [String: String] = {
        let names = [
            "soapenv": ["Envelope", "Header", "Body", "Fault"],
            "xrd": ["client", "service", "id", "protocolVersion", "userId"],
            "id": [
                "objectType", "xRoadInstance", "memberClass", "memberCode", "subsystemCode", "serviceCode", "serviceVersion",
            ],
            "reg": [
                "LookupCitizen", "LookupCitizenResponse", "citizen", "personalId", "fullName", "dateOfBirth", "eIdLevel",
            ],
        ]
        return Dictionary(uniqueKeysWithValues: names.flatMap { prefix, locals in locals.map { ($0, prefix) } })
    }()

    struct Envelope: Codable, Sendable {
        var header: Header?
        var body: Body

        enum CodingKeys: String, CodingKey {
            case header = "Header"
            case body = "Body"
        }
    }

    /// The X-Road header, echoed as received.
    struct Header: Codable, Sendable, Hashable {
        var client: Client
        var service: Service
        var id: String
        var protocolVersion: String
        var userId: String
    }

    struct Client: Codable, Sendable, Hashable, DynamicNodeEncoding {
        var objectType: String
        var xRoadInstance: String
        var memberClass: String
        var memberCode: String
        var subsystemCode: String

        static func nodeEncoding(for key: any CodingKey) -> XMLEncoder.NodeEncoding {
            key.stringValue == "objectType" ? .attribute : .element
        }
    }

    struct Service: Codable, Sendable, Hashable, DynamicNodeEncoding {
        var objectType: String
        var xRoadInstance: String
        var memberClass: String
        var memberCode: String
        var subsystemCode: String
        var serviceCode: String
        var serviceVersion: String

        static func nodeEncoding(for key: any CodingKey) -> XMLEncoder.NodeEncoding {
            key.stringValue == "objectType" ? .attribute : .element
        }
    }

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
        let encoder = XMLEncoder()
        encoder.keyEncodingStrategy = .custom { path in Name(qualified(path.last?.stringValue ?? "")) }
        return try encoder.encode(
            envelope, withRootKey: qualified("Envelope"), rootAttributes: namespaces,
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    static func decode(_ data: Data) throws -> Envelope {
        let decoder = XMLDecoder()
        decoder.keyDecodingStrategy = .custom { path in Name(localName(path.last?.stringValue ?? "")) }
        return try decoder.decode(Envelope.self, from: data)
    }

    /// Why a request could not be decoded, naming the element: "missing soapenv:Header/xrd:client/id:memberCode".
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            // XMLCoder's path already ends with the missing key; others' does not.
            let keys =
                context.codingPath.last?.stringValue == key.stringValue ? context.codingPath : context.codingPath + [key]
            return "missing \(path(keys))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? context.debugDescription : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        ([qualified("Envelope")] + keys.map { qualified($0.stringValue) }).joined(separator: "/")
    }

    private static func qualified(_ local: String) -> String {
        prefixes[local].map { "\($0):\(local)" } ?? local
    }

    /// Namespace declarations (`xmlns:xrd`) keep their name, so that they never pass for an
    /// element of the same local name.
    private static func localName(_ name: String) -> String {
        guard !name.hasPrefix("xmlns"), let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    private struct Name: CodingKey {
        let stringValue: String
        let intValue: Int? = nil

        init(_ name: String) {
            stringValue = name
        }

        init?(stringValue: String) {
            self.stringValue = stringValue
        }

        init?(intValue: Int) {
            nil
        }
    }
}
