import Foundation
import XMLCoder

/// edXML (QCVN 102:2016) as the document system writes and reads it: every element in the edXML
/// namespace under the `edXML` prefix. The types name their elements without it; encoding adds
/// the prefix, decoding strips whichever prefix the sender chose.
enum EdXMLCoding {
    static let namespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
    static let namespacePrefix = "edXML"

    /// `root` without its prefix, e.g. `edXMLEnvelope`.
    static func encode(_ value: some Encodable, root: String) throws -> Data {
        let encoder = XMLEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        let prefix = namespacePrefix
        encoder.keyEncodingStrategy = .custom { codingPath in
            PrefixedName("\(prefix):\(codingPath.last?.stringValue ?? "")")
        }
        return try encoder.encode(
            value, withRootKey: "\(namespacePrefix):\(root)", rootAttributes: ["xmlns:\(namespacePrefix)": namespace],
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        return try decoder.decode(type, from: data)
    }
}

/// An element name with its namespace prefix.
private struct PrefixedName: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

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
