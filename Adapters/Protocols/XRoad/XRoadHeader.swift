public import XMLCoder

/// The X-Road header of every registry call (`soapenv:Header`): who asks, which service, a request
/// id unique per call, the protocol version and the user. The registry echoes it in its answer,
/// so an answer can be matched to its request by `id`.
public struct XRoadHeader: Codable, Sendable, Hashable {
    public var client: XRoadClientIdentifier
    public var service: XRoadServiceIdentifier
    public var id: String
    public var protocolVersion: String
    public var userId: String

    public init(client: XRoadClientIdentifier, service: XRoadServiceIdentifier, id: String, protocolVersion: String, userId: String) {
        self.client = client
        self.service = service
        self.id = id
        self.protocolVersion = protocolVersion
        self.userId = userId
    }

    /// The X-Road message protocol this header follows.
    public static let supportedProtocolVersion = "4.0"
}

/// `xrd:client`: a member's subsystem on an X-Road instance.
public struct XRoadClientIdentifier: Codable, Sendable, Hashable, DynamicNodeEncoding {
    /// The `id:objectType` attribute: SUBSYSTEM.
    public var objectType = "SUBSYSTEM"
    public var xRoadInstance: String
    public var memberClass: String
    public var memberCode: String
    public var subsystemCode: String

    public init(objectType: String = "SUBSYSTEM", xRoadInstance: String, memberClass: String, memberCode: String, subsystemCode: String) {
        self.objectType = objectType
        self.xRoadInstance = xRoadInstance
        self.memberClass = memberClass
        self.memberCode = memberCode
        self.subsystemCode = subsystemCode
    }

    public static func nodeEncoding(for key: any CodingKey) -> XMLEncoder.NodeEncoding {
        key.stringValue == "objectType" ? .attribute : .element
    }
}

/// `xrd:service`: one version of a service of a member's subsystem.
public struct XRoadServiceIdentifier: Codable, Sendable, Hashable, DynamicNodeEncoding {
    /// The `id:objectType` attribute: SERVICE.
    public var objectType = "SERVICE"
    public var xRoadInstance: String
    public var memberClass: String
    public var memberCode: String
    public var subsystemCode: String
    public var serviceCode: String
    public var serviceVersion: String

    public init(
        objectType: String = "SERVICE", xRoadInstance: String, memberClass: String, memberCode: String, subsystemCode: String,
        serviceCode: String, serviceVersion: String
    ) {
        self.objectType = objectType
        self.xRoadInstance = xRoadInstance
        self.memberClass = memberClass
        self.memberCode = memberCode
        self.subsystemCode = subsystemCode
        self.serviceCode = serviceCode
        self.serviceVersion = serviceVersion
    }

    public static func nodeEncoding(for key: any CodingKey) -> XMLEncoder.NodeEncoding {
        key.stringValue == "objectType" ? .attribute : .element
    }
}
