import AsyncHTTPClient
public import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Creates, through the RabbitMQ management HTTP API, what the bus needs on a broker (local,
/// remote or a cluster): the vhost, the core's user (owner of the topology), and a user per adapter
/// that may write on `govbus.ingress` only, read its own inbox only, and configure nothing.
/// Running it again changes nothing that is already right.
public struct BrokerProvisioner: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public let managementURL: URL
    private let authorization: String

    /// `managementURL` holds the management user's credentials: `http://admin:secret@host:15672/`.
    public init(managementURL: URL) throws {
        guard let components = URLComponents(url: managementURL, resolvingAgainstBaseURL: false),
            let user = components.user, let password = components.password
        else {
            throw Failure(description: "the management URL must hold a user and password: http://user:password@host:15672")
        }
        var base = components
        base.user = nil
        base.password = nil
        base.path = ""
        self.managementURL = base.url!
        authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// The permissions of an adapter's user: write the ingress, read its inbox, configure nothing.
    public static func adapterPermissions(_ adapter: String) -> [String: String] {
        [
            "configure": "^$",
            "write": "^govbus\\.ingress$",
            // Its inbox, or the partitions of it (`govbus.adapter.<name>.<n>`).
            "read": "^" + NSRegularExpression.escapedPattern(for: CoreTopology.inbox(of: adapter)) + "(\\.[0-9]+)?$",
        ]
    }

    /// Provisions the vhost, the core's user and each adapter's user with its password.
    public func provision(
        vhost: String, coreUser: String, corePassword: String, adapters: [String: String]
    ) async throws {
        try await put("/api/vhosts/\(Self.encode(vhost))", body: ["description": "GovBus"])
        try await put("/api/users/\(Self.encode(coreUser))", body: ["password": corePassword, "tags": ""])
        // The core owns its vhost: its retry queues also dead-letter through the default exchange.
        try await put(
            "/api/permissions/\(Self.encode(vhost))/\(Self.encode(coreUser))",
            body: ["configure": ".*", "write": ".*", "read": ".*"])
        for (adapter, password) in adapters.sorted(by: { $0.key < $1.key }) {
            try await put("/api/users/\(Self.encode(adapter))", body: ["password": password, "tags": ""])
            try await put(
                "/api/permissions/\(Self.encode(vhost))/\(Self.encode(adapter))", body: Self.adapterPermissions(adapter))
        }
    }

    /// Deletes a vhost (with everything in it) and users, as a benchmark or test cleans up.
    public func remove(vhost: String, users: [String]) async throws {
        _ = try await request(.DELETE, "/api/vhosts/\(Self.encode(vhost))", body: nil, accept: [204, 404])
        for user in users {
            _ = try await request(.DELETE, "/api/users/\(Self.encode(user))", body: nil, accept: [204, 404])
        }
    }

    /// Whether a user exists (an existing adapter keeps its password unless asked to reset it).
    public func userExists(_ user: String) async throws -> Bool {
        try await request(.GET, "/api/users/\(Self.encode(user))", body: nil, accept: [200, 404]) == 200
    }

    private func put(_ path: String, body: [String: String]) async throws {
        _ = try await request(.PUT, path, body: body, accept: [200, 201, 204])
    }

    private func request(_ method: HTTPMethod, _ path: String, body: [String: String]?, accept: Set<UInt>) async throws -> UInt {
        var request = HTTPClientRequest(url: managementURL.absoluteString + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body {
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw Failure(description: "cannot reach the management API at \(managementURL): \(error)")
        }
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        let status = response.status.code
        guard accept.contains(status) else {
            switch status {
            case 401: throw Failure(description: "the management API refused the credentials (401): \(text)")
            case 403: throw Failure(description: "the management user may not do this (403): \(text)")
            default: throw Failure(description: "\(method.rawValue) \(path) answered \(status): \(text)")
            }
        }
        return status
    }

    private static func encode(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? segment
    }
}
