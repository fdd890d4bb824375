import XMLCoder

/// The X-Road header of every registry call (`soapenv:Header`): who asks, which service, a request
/// id unique per call, the protocol version and the user. The registry echoes it in its answer,
/// so an answer can be matched to its request by `id`.
struct XRoadHeader: Codable, Sendable, Hashable {
    var client: XRoadClientIdentifier
    var service: XRoadServiceIdentifier
    var id: String
    var protocolVersion: String
    var userId: String

    /// The X-Road message protocol this header follows.
    static let supportedProtocolVersion = "4.0"
}

/// `xrd:client`: a member's subsystem on an X-Road instance.
struct XRoadClientIdentifier: Codable, Sendable, Hashable, DynamicNodeEncoding {
    /// The `id:objectType` attribute: SUBSYSTEM.
    var objectType = "SUBSYSTEM"
    var xRoadInstance: String
    var memberClass: String
    var memberCode: String
    var subsystemCode: String

    static func nodeEncoding(for key: any CodingKey) -> XMLEncoder.NodeEncoding {
        key.stringValue == "objectType" ? .attribute : .element
    }
}

/// `xrd:service`: one version of a service of a member's subsystem.
struct XRoadServiceIdentifier: Codable, Sendable, Hashable, DynamicNodeEncoding {
    /// The `id:objectType` attribute: SERVICE.
    var objectType = "SERVICE"
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
