import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Reads a request with the platform's XML parser before it is decoded, to say precisely why it
/// is not well-formed XML or not a SOAP 1.1 envelope (the decoder only says that it failed).
final class EnvelopeCheck: NSObject, XMLParserDelegate {
    private var root: (name: String, namespace: String?)?
    private var openElements = 0
    private var firstError: String?

    /// What is wrong with `data` as the XML of a SOAP 1.1 envelope, or nil when nothing is.
    static func problem(in data: Data) -> String? {
        guard !data.isEmpty else { return "the body is empty: a SOAP envelope was expected" }
        let check = EnvelopeCheck()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = check
        let parsed = parser.parse()
        if let error = check.firstError { return error }
        if !parsed { return "the body is not well-formed XML (\(parser.parserError.map { "\($0)" } ?? "no detail"))" }
        guard let root = check.root else { return "the body is not well-formed XML: it holds no element" }
        guard check.openElements == 0 else { return "the body is not well-formed XML: it ends inside an element" }
        guard root.name == "Envelope", root.namespace == RegistrySOAP.envelopeNamespace else {
            return "the root element must be the SOAP 1.1 Envelope of \(RegistrySOAP.envelopeNamespace), "
                + "not \(root.name) of \(root.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "no namespace")"
        }
        return nil
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if root == nil { root = (elementName, namespaceURI) }
        openElements += 1
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        openElements -= 1
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard firstError == nil else { return }
        firstError =
            "the body is not well-formed XML: line \(parser.lineNumber), column \(parser.columnNumber) "
            + "(\(parseError.localizedDescription))"
    }
}
