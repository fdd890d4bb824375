import XRoad
import GovBusAdapterKit

/// Who calls and what is called on X-Road: the adapter's subsystem (the client) and the
/// registry's LookupCitizen service, from the adapter's settings `xroadInstance`,
/// `clientMemberClass`, `clientMemberCode`, `clientSubsystem`, `serviceMemberClass`,
/// `serviceMemberCode` and `serviceSubsystem`.
struct XRoadPeers: Sendable, Hashable {
    let client: XRoadClientIdentifier
    let service: XRoadServiceIdentifier
    /// `xrd:userId`: the adapter's name, for the registry's access log.
    let userId: String

    static let serviceCode = "LookupCitizen"
    static let serviceVersion = "v1"

    init(client: XRoadClientIdentifier, service: XRoadServiceIdentifier, userId: String) {
        self.client = client
        self.service = service
        self.userId = userId
    }

    init(configuration: AdapterConfiguration) throws {
        let instance = try configuration.setting("xroadInstance")
        client = XRoadClientIdentifier(
            xRoadInstance: instance, memberClass: try configuration.setting("clientMemberClass"),
            memberCode: try configuration.setting("clientMemberCode"),
            subsystemCode: try configuration.setting("clientSubsystem"))
        service = XRoadServiceIdentifier(
            xRoadInstance: instance, memberClass: try configuration.setting("serviceMemberClass"),
            memberCode: try configuration.setting("serviceMemberCode"),
            subsystemCode: try configuration.setting("serviceSubsystem"), serviceCode: Self.serviceCode,
            serviceVersion: Self.serviceVersion)
        userId = configuration.name
    }

    /// The header of one call; `requestID` must be new for every call.
    func header(requestID: String) -> XRoadHeader {
        XRoadHeader(
            client: client, service: service, id: requestID, protocolVersion: XRoadHeader.supportedProtocolVersion,
            userId: userId)
    }
}
