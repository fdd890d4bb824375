import Foundation
import XMLCoder

/// The registry's envelopes as XML. Elements are written with the prefix of their namespace
/// (soapenv, xrd, id, reg) and read by their local name, whatever prefixes the other side chose.
enum RegistryXML {
    static let namespaces = [
        "xmlns:soapenv": "http://schemas.xmlsoap.org/soap/envelope/",
        "xmlns:xrd": "http://x-road.eu/xsd/xroad.xsd",
        "xmlns:id": "http://x-road.eu/xsd/identifiers",
        "xmlns:reg": "urn:govbus:registry",
    ]

    /// The prefix of each name these messages use. A fault's children have none (SOAP 1.1).
    private static let prefixes: [String: String] = {
        let names = [
            "soapenv": ["Header", "Body", "Fault"],
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

    static func encode(_ envelope: RegistryEnvelope) throws -> Data {
        let encoder = XMLEncoder()
        encoder.keyEncodingStrategy = .custom { path in
            let local = path.last?.stringValue ?? ""
            return XMLName(prefixes[local].map { "\($0):\(local)" } ?? local)
        }
        return try encoder.encode(
            envelope, withRootKey: "soapenv:Envelope", rootAttributes: namespaces,
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    static func decode(_ data: Data) throws -> RegistryEnvelope {
        let decoder = XMLDecoder()
        decoder.keyDecodingStrategy = .custom { path in XMLName(localName(path.last?.stringValue ?? "")) }
        return try decoder.decode(RegistryEnvelope.self, from: data)
    }

    /// `xrd:client` is `client`; namespace declarations (`xmlns:xrd`) keep their name, so that
    /// they never pass for an element of the same local name.
    static func localName(_ name: String) -> String {
        guard !name.hasPrefix("xmlns"), let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }
}

/// A key as XMLCoder reads or writes it.
struct XMLName: CodingKey {
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
