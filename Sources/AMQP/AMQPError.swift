/// Every failure the AMQP client reports. `kind` says what failed; `message` says it for a person,
/// with the broker's own text where the broker gave one.
public struct AMQPError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The URL or another setting is not usable.
        case invalidConfiguration
        /// Nothing answered at that host and port, or the name did not resolve.
        case hostUnreachable
        /// The connection or the AMQP handshake did not finish within the connect timeout.
        case connectTimeout
        /// The server's certificate (chain or host name) did not verify.
        case tlsVerificationFailed
        /// The TLS handshake failed for another reason, or a certificate file is not usable.
        case tlsFailed
        /// The broker refused the user name or password.
        case authenticationFailed
        /// The virtual host does not exist.
        case vhostNotFound
        /// The broker refused an operation for lack of permission (code 403, or 530 on a vhost).
        case accessRefused
        /// The broker closed a channel (the code and text say why, e.g. 404 NOT_FOUND).
        case channelClosed
        /// The broker closed the connection (e.g. 320 CONNECTION_FORCED on shutdown).
        case connectionClosed
        /// The connection broke: a socket error, a missed heartbeat, a reset.
        case connectionLost
        /// A `mandatory` message could not be routed to any queue; the broker returned it.
        case unroutable
        /// The broker refused responsibility for a published message (basic.nack).
        case nacked
        /// The broker did not confirm a publish within the publish timeout.
        case confirmTimeout
        /// A request did not get its answer within the request timeout.
        case timeout
        /// The consumer was cancelled by the broker (e.g. its queue was deleted).
        case consumerCancelled
        /// The application closed the connection while the operation was pending.
        case closedByApplication
        /// Recovery did not reconnect within the recovery policy's limit.
        case recoveryGaveUp
        /// The broker or the library sent something this client does not understand.
        case protocolError
    }

    public let kind: Kind
    public let message: String
    /// The AMQP reply code, when the broker gave one.
    public let replyCode: UInt16?

    public init(_ kind: Kind, _ message: String, replyCode: UInt16? = nil) {
        self.kind = kind
        self.message = message
        self.replyCode = replyCode
    }

    public var description: String {
        if let replyCode {
            return "\(kind.rawValue) (\(replyCode)): \(message)"
        }
        return "\(kind.rawValue): \(message)"
    }

    /// Whether reconnecting may cure it: true for what a broker restart or a network cut causes.
    var isRecoverableByReconnecting: Bool {
        switch kind {
        case .connectionLost, .connectionClosed, .hostUnreachable, .connectTimeout, .timeout:
            return true
        default:
            return false
        }
    }
}
