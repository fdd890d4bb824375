internal import CRabbitMQ
import Glibc

/// A frame from the broker, already turned into Swift values (bodies excepted: a body fragment
/// points into the library's buffers and is valid until buffers are released).
enum IncomingFrame {
    struct Deliver {
        let consumerTag: String
        let deliveryTag: UInt64
        let redelivered: Bool
        let exchange: String
        let routingKey: String
    }

    struct Return {
        let replyCode: UInt16
        let replyText: String
        let exchange: String
        let routingKey: String
    }

    case deliver(channel: UInt16, Deliver)
    case returned(channel: UInt16, Return)
    case contentHeader(channel: UInt16, bodySize: Int, properties: AMQPProperties)
    case contentBody(channel: UInt16, UnsafeRawBufferPointer)
    case confirm(channel: UInt16, tag: UInt64, multiple: Bool, acknowledged: Bool)
    case channelClosed(channel: UInt16, AMQPError)
    case connectionClosed(AMQPError)
    case consumerCancelled(channel: UInt16, consumerTag: String)
    case blocked(reason: String)
    case unblocked
    case other
}

/// One rabbitmq-c connection: the only type that calls the library. It is not thread-safe, as
/// rabbitmq-c is not: the connection driver owns it and calls it from its own thread only.
final class RabbitMQSession {
    private var state: amqp_connection_state_t?
    let endpoint: String

    /// Opens the socket (TCP or TLS), logs in and opens the vhost.
    init(configuration: AMQPConfiguration) throws(AMQPError) {
        endpoint = configuration.endpointDescription
        guard let state = amqp_new_connection() else {
            throw AMQPError(.protocolError, "rabbitmq-c could not allocate a connection")
        }
        self.state = state
        do {
            try open(state, configuration)
        } catch {
            amqp_destroy_connection(state)
            self.state = nil
            throw error
        }
    }

    deinit {
        if let state { amqp_destroy_connection(state) }
    }

    private func open(_ state: amqp_connection_state_t, _ configuration: AMQPConfiguration) throws(AMQPError) {
        let started = ContinuousClock.now
        let socket = try makeSocket(state, configuration)
        var connectTimeout = timeval(configuration.connectTimeout)
        errno = 0
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &connectTimeout)
        if status != AMQP_STATUS_OK.rawValue {
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                throw AMQPError(
                    .connectTimeout,
                    "no connection to \(endpoint) within \(configuration.connectTimeout)")
            }
            if configuration.tls != nil, status == AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue,
                configuration.tls?.verifyPeer == true
            {
                // OpenSSL reports a chain that does not verify as a failed handshake.
                throw AMQPError(
                    .tlsVerificationFailed,
                    "TLS handshake with \(endpoint) failed: the server certificate did not verify against the CA \(configuration.tls?.caCertificateFile ?? "(system default)")")
            }
            throw ErrorMapping.status(status, during: "connect", endpoint: endpoint)
        }
        // The handshake gets what is left of the connect timeout: connecting as a whole, socket
        // and login, takes no longer than the timeout.
        let remaining = max(configuration.connectTimeout - (ContinuousClock.now - started), .milliseconds(100))
        var handshakeTimeout = timeval(remaining)
        amqp_set_handshake_timeout(state, &handshakeTimeout)
        amqp_set_rpc_timeout(state, &handshakeTimeout)

        let arena = CArena()
        var properties = arena.table(Self.clientProperties(configuration))
        let heartbeatSeconds = Int32(configuration.heartbeat.components.seconds)
        let reply = govbus_amqp_login_plain(
            state, configuration.vhost, 2047, 131072, heartbeatSeconds, &properties,
            configuration.user, configuration.password)
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            throw ErrorMapping.login(
                reply, user: configuration.user, vhost: configuration.vhost, endpoint: endpoint)
        }
        var requestTimeout = timeval(configuration.requestTimeout)
        amqp_set_rpc_timeout(state, &requestTimeout)
    }

    private func makeSocket(
        _ state: amqp_connection_state_t, _ configuration: AMQPConfiguration
    ) throws(AMQPError) -> OpaquePointer {
        guard let tls = configuration.tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError(.protocolError, "rabbitmq-c could not create a TCP socket")
            }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError(.tlsFailed, "rabbitmq-c could not create a TLS socket")
        }
        if let caFile = tls.caCertificateFile,
            amqp_ssl_socket_set_cacert(socket, caFile) != AMQP_STATUS_OK.rawValue
        {
            throw AMQPError(.tlsFailed, "cannot load the CA certificate file '\(caFile)'")
        }
        if let certificate = tls.clientCertificateFile {
            guard let key = tls.clientKeyFile else {
                throw AMQPError(.invalidConfiguration, "a client certificate needs its key file too")
            }
            if amqp_ssl_socket_set_key(socket, certificate, key) != AMQP_STATUS_OK.rawValue {
                throw AMQPError(
                    .tlsFailed, "cannot load the client certificate '\(certificate)' with key '\(key)'")
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
        return socket
    }

    private static func clientProperties(_ configuration: AMQPConfiguration) -> AMQPTable {
        var properties: AMQPTable = [
            "product": "GovBus AMQP (rabbitmq-c)",
            "platform": "Swift",
            "capabilities": .table([
                "connection.blocked": true,
                "authentication_failure_close": true,
                "consumer_cancel_notify": true,
                "publisher_confirms": true,
                "basic.nack": true,
                "exchange_exchange_bindings": true,
            ]),
        ]
        if let name = configuration.connectionName { properties["connection_name"] = .string(name) }
        return properties
    }

    /// The socket to wait on for input; -1 once closed.
    var socketDescriptor: Int32 {
        guard let state else { return -1 }
        return amqp_get_sockfd(state)
    }

    /// Closes politely when it can, then frees the connection.
    func close() {
        guard let state else { return }
        _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(state)
        self.state = nil
    }

    /// Frees the connection without a word to the broker (it is gone or broken).
    func abandon() {
        guard let state else { return }
        amqp_destroy_connection(state)
        self.state = nil
    }

    private func liveState() throws(SessionFailure) -> amqp_connection_state_t {
        guard let state else {
            throw SessionFailure(
                error: AMQPError(.connectionLost, "the connection to \(endpoint) is closed"),
                scope: .connectionBroken)
        }
        return state
    }

    // MARK: Requests

    /// Runs a synchronous request; a broker close is answered with its close-ok before it is thrown.
    private func request<Reply>(
        _ step: String, channel: UInt16,
        _ call: (amqp_connection_state_t) -> UnsafeMutablePointer<Reply>?
    ) throws(SessionFailure) -> Reply {
        let state = try liveState()
        if let reply = call(state) { return reply.pointee }
        let failure = ErrorMapping.reply(
            amqp_get_rpc_reply(state), channel: channel, during: step, endpoint: endpoint)
        acknowledgeClose(failure.scope, channel: channel)
        throw failure
    }

    private func acknowledgeClose(_ scope: FailureScope, channel: UInt16) {
        guard let state else { return }
        switch scope {
        case .channelClosed(let closed):
            var closeOk = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, closed, MethodID.channelCloseOk, &closeOk)
        case .connectionBroken:
            var closeOk = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, MethodID.connectionCloseOk, &closeOk)
        case .operationOnly:
            break
        }
    }

    func openChannel(_ channel: UInt16) throws(SessionFailure) {
        _ = try request("channel.open", channel: channel) { amqp_channel_open($0, channel) }
    }

    func closeChannel(_ channel: UInt16) throws(SessionFailure) {
        let state = try liveState()
        let reply = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            let failure = ErrorMapping.reply(reply, channel: channel, during: "channel.close", endpoint: endpoint)
            acknowledgeClose(failure.scope, channel: channel)
            throw failure
        }
    }

    func selectConfirms(channel: UInt16) throws(SessionFailure) {
        _ = try request("confirm.select", channel: channel) { amqp_confirm_select($0, channel) }
    }

    func setPrefetch(channel: UInt16, count: UInt16) throws(SessionFailure) {
        _ = try request("basic.qos", channel: channel) { amqp_basic_qos($0, channel, 0, count, 0) }
    }

    func declare(_ exchange: AMQPExchange, passive: Bool, channel: UInt16) throws(SessionFailure) {
        let arena = CArena()
        _ = try request("exchange.declare '\(exchange.name)'", channel: channel) {
            amqp_exchange_declare(
                $0, channel, arena.bytes(exchange.name), arena.bytes(exchange.kind.name),
                passive ? 1 : 0, exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0,
                exchange.internal ? 1 : 0, arena.table(exchange.arguments))
        }
    }

    func declare(_ queue: AMQPQueue, passive: Bool, channel: UInt16) throws(SessionFailure) -> AMQPQueueStatus {
        let arena = CArena()
        let ok = try request("queue.declare '\(queue.name)'", channel: channel) {
            amqp_queue_declare(
                $0, channel, arena.bytes(queue.name), passive ? 1 : 0, queue.durable ? 1 : 0,
                queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0,
                passive ? amqp_table_t(num_entries: 0, entries: nil) : arena.table(queue.argumentsWithType))
        }
        return AMQPQueueStatus(
            name: String(amqpBytes: ok.queue), messageCount: ok.message_count,
            consumerCount: ok.consumer_count)
    }

    func bind(_ binding: AMQPBinding, channel: UInt16) throws(SessionFailure) {
        let arena = CArena()
        if binding.destinationIsExchange {
            _ = try request("exchange.bind '\(binding.queue)' to '\(binding.exchange)'", channel: channel) {
                amqp_exchange_bind(
                    $0, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                    arena.bytes(binding.routingKey), arena.table(binding.arguments))
            }
            return
        }
        _ = try request("queue.bind '\(binding.queue)' to '\(binding.exchange)'", channel: channel) {
            amqp_queue_bind(
                $0, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments))
        }
    }

    func unbind(_ binding: AMQPBinding, channel: UInt16) throws(SessionFailure) {
        let arena = CArena()
        if binding.destinationIsExchange {
            _ = try request("exchange.unbind '\(binding.queue)' from '\(binding.exchange)'", channel: channel) {
                amqp_exchange_unbind(
                    $0, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                    arena.bytes(binding.routingKey), arena.table(binding.arguments))
            }
            return
        }
        _ = try request("queue.unbind '\(binding.queue)' from '\(binding.exchange)'", channel: channel) {
            amqp_queue_unbind(
                $0, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                arena.bytes(binding.routingKey), arena.table(binding.arguments))
        }
    }

    func deleteQueue(_ name: String, ifUnused: Bool, ifEmpty: Bool, channel: UInt16) throws(SessionFailure) -> UInt32 {
        let arena = CArena()
        return try request("queue.delete '\(name)'", channel: channel) {
            amqp_queue_delete($0, channel, arena.bytes(name), ifUnused ? 1 : 0, ifEmpty ? 1 : 0)
        }.message_count
    }

    func purgeQueue(_ name: String, channel: UInt16) throws(SessionFailure) -> UInt32 {
        let arena = CArena()
        return try request("queue.purge '\(name)'", channel: channel) {
            amqp_queue_purge($0, channel, arena.bytes(name))
        }.message_count
    }

    func deleteExchange(_ name: String, ifUnused: Bool, channel: UInt16) throws(SessionFailure) {
        let arena = CArena()
        _ = try request("exchange.delete '\(name)'", channel: channel) {
            amqp_exchange_delete($0, channel, arena.bytes(name), ifUnused ? 1 : 0)
        }
    }

    func consume(
        queue: String, consumerTag: String, exclusive: Bool, arguments: AMQPTable, channel: UInt16
    ) throws(SessionFailure) {
        let arena = CArena()
        _ = try request("basic.consume '\(queue)'", channel: channel) {
            amqp_basic_consume(
                $0, channel, arena.bytes(queue), arena.bytes(consumerTag), 0, 0, exclusive ? 1 : 0,
                arena.table(arguments))
        }
    }

    func cancel(consumerTag: String, channel: UInt16) throws(SessionFailure) {
        let arena = CArena()
        _ = try request("basic.cancel '\(consumerTag)'", channel: channel) {
            amqp_basic_cancel($0, channel, arena.bytes(consumerTag))
        }
    }

    // MARK: Asynchronous methods

    func publish(
        _ message: AMQPMessage, exchange: String, routingKey: String, mandatory: Bool, channel: UInt16
    ) throws(SessionFailure) {
        let state = try liveState()
        let arena = CArena()
        var properties = arena.properties(message.properties)
        let exchangeBytes = arena.bytes(exchange)
        let routingKeyBytes = arena.bytes(routingKey)
        let status = message.body.withUnsafeBytes { body in
            amqp_basic_publish(
                state, channel, exchangeBytes, routingKeyBytes, mandatory ? 1 : 0, 0, &properties,
                amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
        }
        try check(status, during: "basic.publish")
    }

    func acknowledge(channel: UInt16, deliveryTag: UInt64, multiple: Bool) throws(SessionFailure) {
        try check(amqp_basic_ack(try liveState(), channel, deliveryTag, multiple ? 1 : 0), during: "basic.ack")
    }

    func negativelyAcknowledge(
        channel: UInt16, deliveryTag: UInt64, multiple: Bool, requeue: Bool
    ) throws(SessionFailure) {
        try check(
            amqp_basic_nack(try liveState(), channel, deliveryTag, multiple ? 1 : 0, requeue ? 1 : 0),
            during: "basic.nack")
    }

    func reject(channel: UInt16, deliveryTag: UInt64, requeue: Bool) throws(SessionFailure) {
        try check(
            amqp_basic_reject(try liveState(), channel, deliveryTag, requeue ? 1 : 0), during: "basic.reject")
    }

    private func check(_ status: Int32, during step: String) throws(SessionFailure) {
        guard status != AMQP_STATUS_OK.rawValue else { return }
        throw SessionFailure(
            error: ErrorMapping.status(status, during: step, endpoint: endpoint),
            scope: ErrorMapping.breaksConnection(status) ? .connectionBroken : .operationOnly)
    }

    // MARK: Input

    /// The next frame already received, without waiting; nil when none is there yet. Sends a
    /// heartbeat when one is due and notices a broker that stopped sending them.
    func nextFrame() throws(SessionFailure) -> IncomingFrame? {
        let state = try liveState()
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        try check(status, during: "reading")
        return decode(frame, state)
    }

    /// Frees the library's buffers for `channel` once nothing there is queued.
    func releaseBuffers(channel: UInt16) {
        guard let state else { return }
        amqp_maybe_release_buffers_on_channel(state, channel)
    }

    func releaseBuffers() {
        guard let state else { return }
        amqp_maybe_release_buffers(state)
    }

    private func decode(_ frame: amqp_frame_t, _ state: amqp_connection_state_t) -> IncomingFrame {
        let channel = frame.channel
        switch Int32(frame.frame_type) {
        case AMQP_FRAME_HEADER:
            let properties = frame.payload.properties.decoded
                .assumingMemoryBound(to: amqp_basic_properties_t.self).pointee
            return .contentHeader(
                channel: channel, bodySize: Int(frame.payload.properties.body_size),
                properties: swiftProperties(properties))
        case AMQP_FRAME_BODY:
            let fragment = frame.payload.body_fragment
            return .contentBody(channel: channel, UnsafeRawBufferPointer(start: fragment.bytes, count: fragment.len))
        case AMQP_FRAME_METHOD:
            return decodeMethod(frame.payload.method, channel: channel, state)
        default:
            return .other
        }
    }

    private func decodeMethod(
        _ method: amqp_method_t, channel: UInt16, _ state: amqp_connection_state_t
    ) -> IncomingFrame {
        switch method.id {
        case MethodID.basicDeliver:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            return .deliver(
                channel: channel,
                IncomingFrame.Deliver(
                    consumerTag: String(amqpBytes: deliver.consumer_tag), deliveryTag: deliver.delivery_tag,
                    redelivered: deliver.redelivered != 0, exchange: String(amqpBytes: deliver.exchange),
                    routingKey: String(amqpBytes: deliver.routing_key)))
        case MethodID.basicAck:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .confirm(channel: channel, tag: ack.delivery_tag, multiple: ack.multiple != 0, acknowledged: true)
        case MethodID.basicNack:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .confirm(channel: channel, tag: nack.delivery_tag, multiple: nack.multiple != 0, acknowledged: false)
        case MethodID.basicReturn:
            let returned = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            return .returned(
                channel: channel,
                IncomingFrame.Return(
                    replyCode: returned.reply_code, replyText: String(amqpBytes: returned.reply_text),
                    exchange: String(amqpBytes: returned.exchange),
                    routingKey: String(amqpBytes: returned.routing_key)))
        case MethodID.channelClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            acknowledgeClose(.channelClosed(channel), channel: channel)
            return .channelClosed(
                channel: channel,
                ErrorMapping.brokerClose(
                    code: close.reply_code, text: String(amqpBytes: close.reply_text), onChannel: channel))
        case MethodID.connectionClose:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            acknowledgeClose(.connectionBroken, channel: 0)
            return .connectionClosed(
                ErrorMapping.brokerClose(
                    code: close.reply_code, text: String(amqpBytes: close.reply_text), onChannel: nil))
        case MethodID.basicCancel:
            let cancel = method.decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .consumerCancelled(channel: channel, consumerTag: String(amqpBytes: cancel.consumer_tag))
        case MethodID.connectionBlocked:
            let blocked = method.decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(reason: String(amqpBytes: blocked.reason))
        case MethodID.connectionUnblocked:
            return .unblocked
        default:
            return .other
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
