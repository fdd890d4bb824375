import struct Foundation.URLComponents

/// Where and how to connect. Built from an `amqp://` or `amqps://` URL, then adjusted in code.
///
/// URL form: `amqp[s]://user:password@host:port/vhost?heartbeat=15&connection_timeout=10`
/// and for TLS `&cacertfile=/path&certfile=/path&keyfile=/path&verify=verify_peer|verify_none`.
/// The vhost is percent-decoded; an empty path means the default vhost `/`.
///
/// A cluster's nodes: `amqp://user:password@h1:5672,h2:5673,h3/vhost`, or several whole URLs
/// separated by commas (with the same user, vhost and TLS settings). The connection opens to the
/// first node that answers, and after a loss tries the next ones in turn (`nodes`).
public struct AMQPConfiguration: Sendable, Hashable {
    public struct TLS: Sendable, Hashable {
        /// PEM file of the CA that signs the server's certificate.
        public var caCertificateFile: String?
        /// PEM client certificate and key, for brokers that ask for one.
        public var clientCertificateFile: String?
        public var clientKeyFile: String?
        /// Check the server's certificate chain against the CA.
        public var verifyPeer: Bool
        /// Check that the certificate names the host connected to (DNS names only).
        public var verifyHostname: Bool

        public init(
            caCertificateFile: String? = nil, clientCertificateFile: String? = nil,
            clientKeyFile: String? = nil, verifyPeer: Bool = true, verifyHostname: Bool = true
        ) {
            self.caCertificateFile = caCertificateFile
            self.clientCertificateFile = clientCertificateFile
            self.clientKeyFile = clientKeyFile
            self.verifyPeer = verifyPeer
            self.verifyHostname = verifyHostname
        }
    }

    /// One node of the broker.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { "\(host):\(port)" }
    }

    /// The first node.
    public var host: String
    public var port: Int
    /// The cluster's other nodes, tried after the first, in this order.
    public var otherNodes: [Node] = []

    /// Every node, the first one first.
    public var nodes: [Node] { [Node(host: host, port: port)] + otherNodes }

    public var user: String
    public var password: String
    public var vhost: String
    /// `nil` for plain TCP.
    public var tls: TLS?
    /// Socket connect and AMQP handshake together.
    public var connectTimeout: Duration
    /// How long a request (declare, bind, qos...) waits for the broker's answer.
    public var requestTimeout: Duration
    /// Heartbeat interval asked of the broker; zero turns heartbeats off. A peer silent for two
    /// intervals counts as gone.
    public var heartbeat: Duration
    /// How long a publish waits for the broker's confirm, recovery included, before it fails.
    public var publishTimeout: Duration
    /// How many published messages may wait for their confirm at once; more wait their turn.
    public var confirmWindow: Int
    public var recovery: AMQPRecoveryPolicy
    /// Shown in the broker's management page.
    public var connectionName: String?

    public init(
        host: String = "127.0.0.1", port: Int? = nil, user: String = "guest",
        password: String = "guest", vhost: String = "/", tls: TLS? = nil,
        connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(30),
        heartbeat: Duration = .seconds(15), publishTimeout: Duration = .seconds(120),
        confirmWindow: Int = 256, recovery: AMQPRecoveryPolicy = AMQPRecoveryPolicy(),
        connectionName: String? = nil
    ) {
        self.host = host
        self.port = port ?? (tls == nil ? 5672 : 5671)
        self.user = user
        self.password = password
        self.vhost = vhost
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.heartbeat = heartbeat
        self.publishTimeout = publishTimeout
        self.confirmWindow = confirmWindow
        self.recovery = recovery
        self.connectionName = connectionName
    }

    public init(url text: String) throws(AMQPError) {
        let urls = Self.separateURLs(text)
        try self.init(singleURL: urls[0].url)
        for (index, part) in urls.enumerated() {
            if index > 0 {
                let next = try AMQPConfiguration(singleURL: part.url)
                guard next.user == user, next.password == password, next.vhost == vhost, next.tls == tls else {
                    throw AMQPError(
                        .invalidConfiguration,
                        "the URLs of one broker must share user, password, vhost and TLS settings: '\(Self.redacted(text))'")
                }
                otherNodes += next.nodes
            }
            for extra in part.extraHosts {
                otherNodes.append(try Self.node(extra, defaultPort: tls == nil ? 5672 : 5671, in: text))
            }
        }
    }

    /// A list of URLs, each with the hosts after its first (`h1,h2,h3` in the authority) apart.
    private static func separateURLs(_ text: String) -> [(url: String, extraHosts: [String])] {
        var urls: [String] = []
        for piece in text.split(separator: ",", omittingEmptySubsequences: false) {
            let lowered = piece.lowercased()
            if urls.isEmpty || lowered.hasPrefix("amqp://") || lowered.hasPrefix("amqps://") {
                urls.append(String(piece))
            } else {
                urls[urls.count - 1] += "," + piece
            }
        }
        return urls.map { url in
            // The hosts are the authority's part after the credentials: up to the path or query.
            guard let schemeEnd = url.range(of: "://") else { return (url, []) }
            let authorityEnd = url[schemeEnd.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? url.endIndex
            let authority = url[schemeEnd.upperBound..<authorityEnd]
            let hostsStart = authority.lastIndex(of: "@").map { authority.index(after: $0) } ?? authority.startIndex
            let hosts = authority[hostsStart...].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard hosts.count > 1 else { return (url, []) }
            return (String(url[..<hostsStart]) + hosts[0] + String(url[authorityEnd...]), Array(hosts.dropFirst()))
        }
    }

    private static func node(_ text: String, defaultPort: Int, in url: String) throws(AMQPError) -> Node {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard !text.isEmpty, parts.count <= 2, !parts[0].isEmpty,
            parts.count == 1 || Int(parts[1]).map({ (1...65535).contains($0) }) == true
        else {
            throw AMQPError(.invalidConfiguration, "'\(text)' is not a host or host:port in '\(redacted(url))'")
        }
        return Node(host: String(parts[0]), port: parts.count == 2 ? Int(parts[1])! : defaultPort)
    }

    private init(singleURL url: String) throws(AMQPError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme else {
            throw AMQPError(.invalidConfiguration, "'\(Self.redacted(url))' is not a URL")
        }
        let secure: Bool
        switch scheme.lowercased() {
        case "amqp": secure = false
        case "amqps": secure = true
        default:
            throw AMQPError(
                .invalidConfiguration,
                "URL scheme '\(scheme)' is not amqp or amqps in '\(Self.redacted(url))'")
        }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        var vhost = components.percentEncodedPath
        if vhost.hasPrefix("/") { vhost.removeFirst() }
        vhost = vhost.removingPercentEncoding ?? vhost
        if vhost.isEmpty { vhost = "/" }

        self.init(
            host: host, port: components.port, user: components.user ?? "guest",
            password: components.password ?? "guest", vhost: vhost,
            tls: secure ? TLS() : nil)

        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "heartbeat":
                heartbeat = .seconds(try Self.number(item.name, value, url))
            case "connection_timeout":
                connectTimeout = .milliseconds(try Self.number(item.name, value, url))
            case "cacertfile", "certfile", "keyfile", "verify", "verify_hostname":
                guard secure else {
                    throw AMQPError(
                        .invalidConfiguration,
                        "'\(item.name)' needs an amqps:// URL: '\(Self.redacted(url))'")
                }
                applyTLSParameter(item.name, value)
            default:
                throw AMQPError(
                    .invalidConfiguration,
                    "unknown URL parameter '\(item.name)' in '\(Self.redacted(url))'")
            }
        }
    }

    private mutating func applyTLSParameter(_ name: String, _ value: String) {
        var settings = tls ?? TLS()
        switch name {
        case "cacertfile": settings.caCertificateFile = value
        case "certfile": settings.clientCertificateFile = value
        case "keyfile": settings.clientKeyFile = value
        case "verify": settings.verifyPeer = value != "verify_none"
        default: settings.verifyHostname = value != "false" && value != "0"
        }
        tls = settings
    }

    private static func number(_ name: String, _ value: String, _ url: String) throws(AMQPError) -> Int {
        guard let number = Int(value), number >= 0 else {
            throw AMQPError(
                .invalidConfiguration,
                "URL parameter '\(name)' must be a whole number, not '\(value)' in '\(redacted(url))'")
        }
        return number
    }

    /// The URL (or list of URLs) with every password hidden, for errors and logs.
    static func redacted(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let schemeEnd = rest.range(of: "://") {
            result += rest[..<schemeEnd.upperBound]
            rest = rest[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
                result += rest[...colon] + "***"
                rest = rest[at...]
            }
        }
        return result + rest
    }

    /// This configuration aimed at one node only.
    func aimed(at node: Node) -> AMQPConfiguration {
        var single = self
        single.host = node.host
        single.port = node.port
        single.otherNodes = []
        return single
    }

    /// How this connection is named in errors and logs: never with its password.
    var endpointDescription: String {
        let hosts = nodes.map(\.description).joined(separator: ",")
        return "\(tls == nil ? "amqp" : "amqps")://\(user)@\(hosts)/\(vhost == "/" ? "" : vhost)"
    }
}

/// How a connection recovers after it drops: exponential backoff between attempts, and a limit
/// after which pending work fails instead of waiting on.
public struct AMQPRecoveryPolicy: Sendable, Hashable {
    public var enabled: Bool
    public var initialDelay: Duration
    public var maximumDelay: Duration
    /// Give up when no attempt succeeded for this long; `nil` never gives up.
    public var giveUpAfter: Duration?

    public init(
        enabled: Bool = true, initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(5), giveUpAfter: Duration? = .seconds(300)
    ) {
        self.enabled = enabled
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.giveUpAfter = giveUpAfter
    }

    /// The wait before attempt `attempt` (1 is the first retry): doubling, capped.
    func delay(beforeAttempt attempt: Int) -> Duration {
        let factor = 1 << min(max(attempt - 1, 0), 20)
        let delay = initialDelay * factor
        return delay > maximumDelay ? maximumDelay : delay
    }
}
