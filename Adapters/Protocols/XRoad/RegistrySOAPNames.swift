public import Foundation
import NamespacedXML
import XMLCoder

/// The names of the registry's SOAP 1.1 messages over X-Road, for both ends (the registry adapter
/// and the registry sandbox): elements are written with their namespace's prefix (soapenv, xrd,
/// id, reg) and read by their local name, whatever prefixes the other side chose.
public enum RegistrySOAPNames {
    public static let envelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    public static let namespaces = [
        "xmlns:soapenv": envelopeNamespace,
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

    /// `Envelope` is `soapenv:Envelope`; a name without a namespace stays as it is.
    public static func qualified(_ local: String) -> String {
        prefixes[local].map { "\($0):\(local)" } ?? local
    }

    /// An envelope, its names prefixed.
    public static func encode(_ envelope: some Encodable) throws -> Data {
        let encoder = XMLEncoder()
        encoder.keyEncodingStrategy = .custom { path in XMLName(qualified(path.last?.stringValue ?? "")) }
        return try encoder.encode(
            envelope, withRootKey: qualified("Envelope"), rootAttributes: namespaces,
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    /// An envelope read by local names.
    public static func decode<Envelope: Decodable>(_ type: Envelope.Type, from data: Data) throws -> Envelope {
        let decoder = XMLDecoder()
        decoder.keyDecodingStrategy = .custom { path in XMLName(XMLName.localName(path.last?.stringValue ?? "")) }
        return try decoder.decode(type, from: data)
    }

    /// Why an envelope could not be decoded, naming the element: "missing soapenv:Header/xrd:client/id:memberCode".
    public static func describe(_ error: any Error) -> String {
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
}
