public import Foundation
import NamespacedXML
import XMLCoder

/// edXML (QCVN 102:2016) on the wire, as the document adapter and the document system both write
/// and read it: every element in the edXML namespace under the `edXML` prefix. The types name
/// their elements without it; encoding adds the prefix, decoding strips whichever prefix the
/// other side chose.
public enum EdXMLCoding {
    public static let namespace = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
    public static let namespacePrefix = "edXML"

    /// `root` without its prefix, e.g. `edXMLEnvelope`.
    public static func encode(_ value: some Encodable, root: String) throws -> Data {
        let encoder = XMLEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        let prefix = namespacePrefix
        encoder.keyEncodingStrategy = .custom { codingPath in
            XMLName("\(prefix):\(codingPath.last?.stringValue ?? "")")
        }
        return try encoder.encode(
            value, withRootKey: "\(namespacePrefix):\(root)", rootAttributes: ["xmlns:\(namespacePrefix)": namespace],
            header: XMLHeader(version: 1.0, encoding: "UTF-8"))
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        let decoder = XMLDecoder()
        decoder.shouldProcessNamespaces = true
        return try decoder.decode(type, from: data)
    }
}
