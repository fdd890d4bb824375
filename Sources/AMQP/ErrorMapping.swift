internal import CRabbitMQ
import Glibc

/// Where a failure leaves the connection: the channel it happened on is closed, or the whole
/// connection is unusable, or neither.
enum FailureScope: Sendable, Equatable {
    case operationOnly
    case channelClosed(UInt16)
    case connectionBroken
}

/// A failure of one library call with what it did to the connection.
struct SessionFailure: Error {
    let error: AMQPError
    let scope: FailureScope
}

/// The one place that turns rabbitmq-c statuses and broker replies into `AMQPError`s.
enum ErrorMapping {
    /// A library status (amqp_status_enum) from a call made `during` some step.
    static func status(_ status: Int32, during step: String, endpoint: String) -> AMQPError {
        let text = String(cString: amqp_error_string2(status))
        switch status {
        case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue, AMQP_STATUS_SOCKET_ERROR.rawValue,
            AMQP_STATUS_TCP_ERROR.rawValue:
            let reason = errno != 0 ? String(cString: strerror(errno)) : text
            return AMQPError(.hostUnreachable, "cannot reach \(endpoint) (\(step)): \(reason)")
        case AMQP_STATUS_TIMEOUT.rawValue:
            return AMQPError(.timeout, "\(step) at \(endpoint) timed out")
        case AMQP_STATUS_HEARTBEAT_TIMEOUT.rawValue:
            return AMQPError(.connectionLost, "\(endpoint) missed its heartbeats (\(step))")
        case AMQP_STATUS_CONNECTION_CLOSED.rawValue, AMQP_STATUS_SOCKET_CLOSED.rawValue:
            return AMQPError(.connectionLost, "\(endpoint) closed the socket (\(step)): \(text)")
        case AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue:
            return AMQPError(
                .tlsVerificationFailed,
                "the server certificate of \(endpoint) is not signed by a trusted CA (\(step))")
        case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue:
            return AMQPError(
                .tlsVerificationFailed,
                "the server certificate of \(endpoint) does not name that host (\(step))")
        case AMQP_STATUS_SSL_ERROR.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue,
            AMQP_STATUS_SSL_SET_ENGINE_FAILED.rawValue:
            return AMQPError(.tlsFailed, "TLS with \(endpoint) failed (\(step)): \(text)")
        case AMQP_STATUS_BAD_AMQP_DATA.rawValue, AMQP_STATUS_UNKNOWN_CLASS.rawValue,
            AMQP_STATUS_UNKNOWN_METHOD.rawValue, AMQP_STATUS_UNEXPECTED_STATE.rawValue,
            AMQP_STATUS_WRONG_METHOD.rawValue, AMQP_STATUS_INCOMPATIBLE_AMQP_VERSION.rawValue:
            return AMQPError(.protocolError, "\(step) with \(endpoint): \(text)")
        case AMQP_STATUS_INVALID_PARAMETER.rawValue, AMQP_STATUS_TABLE_TOO_BIG.rawValue,
            AMQP_STATUS_BAD_URL.rawValue, AMQP_STATUS_BROKER_UNSUPPORTED_SASL_METHOD.rawValue,
            AMQP_STATUS_UNSUPPORTED.rawValue:
            return AMQPError(.invalidConfiguration, "\(step) with \(endpoint): \(text)")
        default:
            return AMQPError(.connectionLost, "\(step) with \(endpoint) failed: \(text)")
        }
    }

    /// Whether a library status leaves the connection unusable.
    static func breaksConnection(_ status: Int32) -> Bool {
        status != AMQP_STATUS_OK.rawValue && status != AMQP_STATUS_INVALID_PARAMETER.rawValue
            && status != AMQP_STATUS_TABLE_TOO_BIG.rawValue
    }

    /// A channel.close or connection.close sent by the broker.
    static func brokerClose(code: UInt16, text: String, onChannel channel: UInt16?) -> AMQPError {
        switch code {
        case 403:
            return AMQPError(.accessRefused, text, replyCode: code)
        case 530 where text.contains("not found"):
            return AMQPError(.vhostNotFound, text, replyCode: code)
        case 530:
            return AMQPError(.accessRefused, text, replyCode: code)
        default:
            if let channel {
                return AMQPError(.channelClosed, "channel \(channel): \(text)", replyCode: code)
            }
            return AMQPError(.connectionClosed, text, replyCode: code)
        }
    }

    /// The reply of a synchronous request (declare, bind, qos, ...) on `channel`.
    static func reply(
        _ reply: amqp_rpc_reply_t, channel: UInt16, during step: String, endpoint: String
    ) -> SessionFailure {
        switch reply.reply_type {
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case MethodID.channelClose:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let error = brokerClose(
                    code: close.reply_code, text: String(amqpBytes: close.reply_text), onChannel: channel)
                return SessionFailure(error: error, scope: .channelClosed(channel))
            case MethodID.connectionClose:
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self)
                    .pointee
                let error = brokerClose(
                    code: close.reply_code, text: String(amqpBytes: close.reply_text), onChannel: nil)
                return SessionFailure(error: error, scope: .connectionBroken)
            default:
                return SessionFailure(
                    error: AMQPError(
                        .protocolError, "\(step): unexpected method 0x\(String(reply.reply.id, radix: 16))"),
                    scope: .connectionBroken)
            }
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            let error = status(reply.library_error, during: step, endpoint: endpoint)
            let scope: FailureScope =
                breaksConnection(reply.library_error) ? .connectionBroken : .operationOnly
            return SessionFailure(error: error, scope: scope)
        case AMQP_RESPONSE_NONE:
            return SessionFailure(
                error: AMQPError(.protocolError, "\(step): the library gave no reply"),
                scope: .connectionBroken)
        default:
            return SessionFailure(
                error: AMQPError(.protocolError, "\(step): unknown reply type"), scope: .connectionBroken)
        }
    }

    /// The reply of the login handshake, where a 403 means the credentials and a closed socket
    /// means the broker hung up on them.
    static func login(
        _ reply: amqp_rpc_reply_t, user: String, vhost: String, endpoint: String
    ) -> AMQPError {
        if reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION, reply.reply.id == MethodID.connectionClose {
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            let text = String(amqpBytes: close.reply_text)
            if close.reply_code == 403, text.contains("Login was refused") || text.contains("login") {
                return AMQPError(
                    .authenticationFailed,
                    "the broker at \(endpoint) refused user '\(user)': wrong user name or password (\(text))",
                    replyCode: close.reply_code)
            }
            if close.reply_code == 530, text.contains("not found") {
                return AMQPError(
                    .vhostNotFound, "virtual host '\(vhost)' does not exist at \(endpoint) (\(text))",
                    replyCode: close.reply_code)
            }
            if close.reply_code == 530 || close.reply_code == 403 {
                return AMQPError(
                    .accessRefused,
                    "user '\(user)' may not use virtual host '\(vhost)' at \(endpoint) (\(text))",
                    replyCode: close.reply_code)
            }
            return brokerClose(code: close.reply_code, text: text, onChannel: nil)
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION,
            reply.library_error == AMQP_STATUS_CONNECTION_CLOSED.rawValue
                || reply.library_error == AMQP_STATUS_SOCKET_CLOSED.rawValue
        {
            return AMQPError(
                .authenticationFailed,
                "the broker at \(endpoint) closed the connection during login: most likely a wrong user name or password for '\(user)'")
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION,
            reply.library_error == AMQP_STATUS_TIMEOUT.rawValue
        {
            return AMQPError(.connectTimeout, "the AMQP handshake with \(endpoint) did not finish in time")
        }
        return Self.reply(reply, channel: 0, during: "login", endpoint: endpoint).error
    }
}

/// AMQP method ids (class << 16 | method): rabbitmq-c defines them as casts Swift cannot import.
enum MethodID {
    static let connectionClose: amqp_method_number_t = 0x000A_0032
    static let connectionCloseOk: amqp_method_number_t = 0x000A_0033
    static let connectionBlocked: amqp_method_number_t = 0x000A_003C
    static let connectionUnblocked: amqp_method_number_t = 0x000A_003D
    static let channelClose: amqp_method_number_t = 0x0014_0028
    static let channelCloseOk: amqp_method_number_t = 0x0014_0029
    static let basicCancel: amqp_method_number_t = 0x003C_001E
    static let basicCancelOk: amqp_method_number_t = 0x003C_001F
    static let basicReturn: amqp_method_number_t = 0x003C_0032
    static let basicDeliver: amqp_method_number_t = 0x003C_003C
    static let basicAck: amqp_method_number_t = 0x003C_0050
    static let basicNack: amqp_method_number_t = 0x003C_0078
}
