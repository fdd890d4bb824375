import DequeModule
import Foundation
import Glibc
import Logging
import Synchronization

/// Drives one rabbitmq-c connection from a thread of its own, as the library requires. Callers on
/// any thread hand it commands through `submit`; the thread sends them, reads what the broker sends,
/// settles confirms, feeds consumers and recovers the connection when it drops.
final class ConnectionDriver: @unchecked Sendable {
    // @unchecked: only `inbox` (behind its mutex) and `wakeup` (an eventfd) are shared; every other
    // stored property is read and written by the driver thread alone.

    private struct Inbox {
        var commands: [DriverCommand] = []
        /// The thread is (about to be) in poll(): a new command must write to `wakeup`.
        var sleeping = false
        /// Messages await their confirm: the confirm will wake the thread (see `wakesDriver`).
        var publishesInFlight = false
        /// The thread sleeps longer than a lazy command may wait (1 ms): every command wakes it.
        var sleepsLong = false
        var accepting = true
        /// Why the connection ended, once it has.
        var endedBy: AMQPError?
    }

    let configuration: AMQPConfiguration
    private let logger: Logger
    private let inbox = Mutex(Inbox())
    private let wakeup = WakeupSignal()
    private let events: AsyncStream<AMQPConnectionEvent>.Continuation

    private var machine: ConnectionStateMachine
    private var session: RabbitMQSession?
    private var connectWaiter: CheckedContinuation<Void, any Error>?
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private var running = true

    private enum ChannelRole {
        case control, publisher, consumer(Int)
    }

    private var roles: [UInt16: ChannelRole] = [:]
    private var controlChannel: UInt16?
    private var publishChannel: UInt16?
    private var confirms = ConfirmTracker<PendingPublish>()
    private var waitingPublishes = Deque<PendingPublish>()
    private var waitingRequests = Deque<ControlRequest>()
    private var consumers: [Int: ConsumerRecord] = [:]
    private var partials: [UInt16: PartialContent] = [:]
    private var topology: [TopologyStep] = []
    private var blockedByBroker = false
    private var lazyPollInterval = Duration.milliseconds(1)
    /// The longest a command that does not wake the thread (an ack, a publish behind others) waits.
    private static let lazyCommandDelay = Duration.milliseconds(1)
    /// Consumers with acks waiting for `sendCoalescedAcknowledgements`.
    private var consumersWithPendingAcks: Set<Int> = []
    /// The node the next connect tries first: after a loss, the one after the node that was lost.
    private var firstNodeToTry = 0
    /// The node of the open session.
    private var connectedNode = 0

    init(
        configuration: AMQPConfiguration, logger: Logger,
        events: AsyncStream<AMQPConnectionEvent>.Continuation
    ) {
        self.configuration = configuration
        self.logger = logger
        self.events = events
        self.machine = ConnectionStateMachine(policy: configuration.recovery)
    }

    /// Starts the thread; `connected` resumes once the first connect succeeded or failed.
    func start(connected: CheckedContinuation<Void, any Error>) {
        connectWaiter = connected
        let thread = Thread { [self] in run() }
        thread.name = "amqp \(configuration.endpointDescription)"
        thread.start()
    }

    /// Hands a command to the driver thread; false once the connection is closed.
    @discardableResult
    func submit(_ command: DriverCommand) -> Bool {
        let mustWake: Bool? = inbox.withLock { box in
            guard box.accepting else { return nil }
            box.commands.append(command)
            guard box.sleepsLong || command.wakesDriver(whilePublishesInFlight: box.publishesInFlight) else { return false }
            let wasSleeping = box.sleeping
            box.sleeping = false
            return wasSleeping
        }
        guard let mustWake else { return false }
        if mustWake { wakeup.signal() }
        return true
    }

    /// The error a command gets once the connection has ended: what ended it.
    var endedError: AMQPError {
        inbox.withLock { $0.endedBy } ?? AMQPError(.closedByApplication, "the connection is closed")
    }

    // MARK: - The loop

    private func run() {
        perform(machine.start())
        while running {
            for command in takeCommands() { handle(command) }
            sendCoalescedAcknowledgements()
            guard running else { break }
            let now = ContinuousClock.now
            expireDeadlines(now)
            switch machine.state {
            case .connected:
                flushControlRequests()
                flushPublishes()
                if machine.isConnected, !readFrames(limit: 128) {
                    // Commands that do not wake the thread may come (see `wakesDriver`): look again
                    // soon, and a little later each time nothing came, up to 16 ms; a sleep longer
                    // than 1 ms is cut short by any command, so none waits longer than that.
                    let lazyCommandsLikely =
                        !confirms.isEmpty || consumers.values.contains { $0.hasUnsettledDeliveries }
                    let timeout = lazyCommandsLikely ? lazyPollInterval : .milliseconds(500)
                    let active = waitForActivity(socket: session?.socketDescriptor ?? -1, timeout: timeout)
                    lazyPollInterval = active ? .milliseconds(1) : min(lazyPollInterval * 2, .milliseconds(16))
                }
            case .waitingToReconnect(_, let until, _):
                if now >= until {
                    perform(machine.reconnectDue(now: now))
                } else {
                    waitForActivity(socket: -1, timeout: until - now)
                }
            case .closed:
                running = false
            case .idle, .connecting:
                break
            }
        }
        finish()
    }

    private func takeCommands() -> [DriverCommand] {
        inbox.withLock { box in
            var taken: [DriverCommand] = []
            swap(&taken, &box.commands)
            return taken
        }
    }

    /// Sleeps in poll() until the broker sends something, a command arrives or `timeout` passes;
    /// false when it slept the whole time and nothing came.
    @discardableResult
    private func waitForActivity(socket: Int32, timeout: Duration) -> Bool {
        let publishesInFlight = !confirms.isEmpty
        let maySleep = inbox.withLock { box in
            guard box.commands.isEmpty else { return false }
            box.sleeping = true
            box.publishesInFlight = publishesInFlight
            box.sleepsLong = timeout > Self.lazyCommandDelay
            return true
        }
        guard maySleep else { return true }
        var descriptors = [pollfd(fd: wakeup.descriptor, events: Int16(POLLIN), revents: 0)]
        if socket >= 0 { descriptors.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(
            clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let ready = poll(&descriptors, nfds_t(descriptors.count), max(0, milliseconds))
        let commandsCame = inbox.withLock { box in
            box.sleeping = false
            box.sleepsLong = false
            return !box.commands.isEmpty
        }
        if descriptors[0].revents & Int16(POLLIN) != 0 {
            wakeup.clear()
        }
        return ready > 0 || commandsCame
    }

    private func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .openConnection:
            openSession()
        case .reportConnected:
            logger.info("AMQP connected", metadata: ["endpoint": "\(configuration.endpointDescription)"])
            events.yield(.connected)
            connectWaiter?.resume()
            connectWaiter = nil
        case .restoreSession:
            restoreSession()
        case .failConnect(let error):
            connectWaiter?.resume(throwing: error)
            connectWaiter = nil
            failEverything(error)
        case .waitToReconnect(let until):
            logger.debug(
                "AMQP reconnecting",
                metadata: ["in": "\(until - ContinuousClock.now)", "endpoint": "\(configuration.endpointDescription)"])
        case .failEverything(let error):
            logger.error("AMQP connection given up", metadata: ["error": "\(error)"])
            failEverything(error)
        case .closeConnection:
            session?.close()
            session = nil
            failEverything(AMQPError(.closedByApplication, "the connection was closed"))
        case .none:
            break
        }
    }

    /// Tries each node of the cluster in turn; the machine waits before the next round only when
    /// none answered.
    private func openSession() {
        let nodes = configuration.nodes
        var lastError = AMQPError(.connectionClosed, "no node to connect to")
        for offset in 0..<nodes.count {
            let index = (firstNodeToTry + offset) % nodes.count
            do {
                session = try RabbitMQSession(configuration: configuration.aimed(at: nodes[index]))
                connectedNode = index
                if nodes.count > 1 { logger.info("AMQP node chosen", metadata: ["node": "\(nodes[index])"]) }
                perform(machine.connectSucceeded())
                return
            } catch {
                logger.debug("AMQP connect failed", metadata: ["node": "\(nodes[index])", "error": "\(error)"])
                lastError = error
            }
        }
        perform(machine.connectFailed(lastError, now: .now))
    }

    /// After a reconnect: the declared topology, then every consumer; the publish channel (with
    /// confirm mode) is reopened by the next flush, which republishes what was not confirmed.
    private func restoreSession() {
        do throws(SessionFailure) {
            for step in topology {
                let channel = try ensureControlChannel()
                switch step {
                case .exchange(let exchange): try session!.declare(exchange, passive: false, channel: channel)
                case .queue(let queue): _ = try session!.declare(queue, passive: false, channel: channel)
                case .binding(let binding): try session!.bind(binding, channel: channel)
                }
            }
        } catch {
            logger.error("AMQP topology not restored", metadata: ["error": "\(error.error)"])
            handleFailure(error)
            guard machine.isConnected else { return }
        }
        for consumer in consumers.values.sorted(by: { $0.id < $1.id }) {
            do throws(SessionFailure) {
                try register(consumer)
            } catch {
                handleFailure(error)
                guard machine.isConnected else { return }
                if consumer.channel == nil, consumers[consumer.id] != nil {
                    consumers[consumer.id] = nil
                    consumer.deliveries.finish(throwing: error.error)
                }
            }
        }
        logger.info(
            "AMQP connection recovered",
            metadata: [
                "consumers": "\(consumers.count)", "republishing": "\(waitingPublishes.count)",
                "topology": "\(topology.count)",
            ])
        events.yield(.recovered)
    }

    // MARK: - Commands

    private func handle(_ command: DriverCommand) {
        switch command {
        case .publish(let pending):
            waitingPublishes.append(pending)
        case .control(let request):
            waitingRequests.append(request)
        case .consume(let consumer, let waiter):
            consumers[consumer.id] = consumer
            guard machine.isConnected else {
                waiter.resume()  // registered by the restore that follows the reconnect
                return
            }
            do throws(SessionFailure) {
                try register(consumer)
                waiter.resume()
            } catch {
                consumers[consumer.id] = nil
                waiter.resume(throwing: error.error)
                handleFailure(error)
            }
        case .cancel(let consumerID, let waiter):
            cancelConsumer(consumerID)
            waiter?.resume()
        case .settle(let consumerID, let generation, let deliveryTag, let settlement):
            settle(consumerID, generation, deliveryTag, settlement)
        case .close(let waiter):
            if let waiter { closeWaiters.append(waiter) }
            sendCoalescedAcknowledgements()
            perform(machine.closeRequested())
        case .runJob(let job):
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    private func register(_ consumer: ConsumerRecord) throws(SessionFailure) {
        let channel = try openChannel(role: .consumer(consumer.id))
        try session!.setPrefetch(channel: channel, count: consumer.prefetch)
        try session!.consume(
            queue: consumer.queue, consumerTag: consumer.consumerTag, exclusive: consumer.exclusive,
            arguments: consumer.arguments, channel: channel)
        consumer.channel = channel
        consumer.generation += 1
        consumer.acknowledgements.reset()
        consumer.lastDeliveryTag = 0
    }

    private func cancelConsumer(_ consumerID: Int) {
        guard let consumer = consumers[consumerID] else { return }
        // Acks given before the cancel must reach the broker before the channel closes, or
        // the broker would deliver those messages again.
        sendAcknowledgements(of: consumer)
        consumers[consumerID] = nil
        if let channel = consumer.channel, let session {
            do throws(SessionFailure) {
                try session.cancel(consumerTag: consumer.consumerTag, channel: channel)
                try session.closeChannel(channel)
                roles[channel] = nil
                partials[channel] = nil
            } catch {
                handleFailure(error)
            }
        }
        consumer.deliveries.finish()
    }

    private func settle(_ consumerID: Int, _ generation: UInt64, _ tag: UInt64, _ settlement: Settlement) {
        // A delivery of an earlier connection or channel: the broker requeued it already and
        // will deliver it again, so there is nothing to settle.
        guard let consumer = consumers[consumerID], consumer.generation == generation,
            let channel = consumer.channel, let session
        else { return }
        if case .ack(multiple: false) = settlement {
            consumer.acknowledgements.enqueueAck(tag)
            consumersWithPendingAcks.insert(consumerID)
            return
        }
        // Acks enqueued before this settlement go first, so that the broker sees them in order.
        sendAcknowledgements(of: consumer)
        guard self.session != nil else { return }
        do throws(SessionFailure) {
            switch settlement {
            case .ack(let multiple):
                try session.acknowledge(channel: channel, deliveryTag: tag, multiple: multiple)
                consumer.acknowledgements.settledDirectly(tag, multiple: multiple)
            case .nack(let multiple, let requeue):
                try session.negativelyAcknowledge(
                    channel: channel, deliveryTag: tag, multiple: multiple, requeue: requeue)
                consumer.acknowledgements.settledDirectly(tag, multiple: multiple)
            case .reject(let requeue):
                try session.reject(channel: channel, deliveryTag: tag, requeue: requeue)
                consumer.acknowledgements.settledDirectly(tag, multiple: false)
            }
        } catch {
            handleFailure(error)
        }
    }

    private func sendCoalescedAcknowledgements() {
        guard !consumersWithPendingAcks.isEmpty else { return }
        for id in consumersWithPendingAcks {
            if let consumer = consumers[id] { sendAcknowledgements(of: consumer) }
        }
        consumersWithPendingAcks.removeAll(keepingCapacity: true)
    }

    private func sendAcknowledgements(of consumer: ConsumerRecord) {
        guard consumer.acknowledgements.hasPending else { return }
        let acks = consumer.acknowledgements.drain()
        guard let channel = consumer.channel, let session else { return }
        do throws(SessionFailure) {
            for ack in acks {
                try session.acknowledge(channel: channel, deliveryTag: ack.tag, multiple: ack.multiple)
            }
        } catch {
            handleFailure(error)
        }
    }

    // MARK: - Channels

    private func openChannel(role: ChannelRole) throws(SessionFailure) -> UInt16 {
        var channel: UInt16 = 1
        while roles[channel] != nil { channel += 1 }
        roles[channel] = role
        try session!.openChannel(channel)
        return channel
    }

    private func ensureControlChannel() throws(SessionFailure) -> UInt16 {
        if let controlChannel { return controlChannel }
        let channel = try openChannel(role: .control)
        controlChannel = channel
        return channel
    }

    private func ensurePublishChannel() throws(SessionFailure) -> UInt16 {
        if let publishChannel { return publishChannel }
        let channel = try openChannel(role: .publisher)
        try session!.selectConfirms(channel: channel)
        confirms = ConfirmTracker()
        publishChannel = channel
        return channel
    }

    // MARK: - Requests and publishes

    private func flushControlRequests() {
        while machine.isConnected, let request = waitingRequests.popFirst() {
            do throws(SessionFailure) {
                let channel = try ensureControlChannel()
                request.continuation.resume(returning: try execute(request.operation, channel: channel))
            } catch {
                if error.scope == .connectionBroken, configuration.recovery.enabled {
                    waitingRequests.prepend(request)  // asked again once reconnected
                } else {
                    request.continuation.resume(throwing: error.error)
                }
                handleFailure(error)
            }
        }
    }

    private func execute(_ operation: ControlOperation, channel: UInt16) throws(SessionFailure) -> ControlResult {
        let session = session!
        switch operation {
        case .declareExchange(let exchange):
            try session.declare(exchange, passive: false, channel: channel)
            remember(.exchange(exchange))
            return .done
        case .declareQueue(let queue):
            let status = try session.declare(queue, passive: false, channel: channel)
            // A server-named queue gets a new name on every declare: it cannot be restored as is.
            if !queue.name.isEmpty { remember(.queue(queue)) }
            return .queue(status)
        case .inspectExchange(let name):
            try session.declare(AMQPExchange(name, kind: .direct), passive: true, channel: channel)
            return .done
        case .inspectQueue(let name):
            return .queue(try session.declare(AMQPQueue(name), passive: true, channel: channel))
        case .bind(let binding):
            try session.bind(binding, channel: channel)
            remember(.binding(binding))
            return .done
        case .unbind(let binding):
            try session.unbind(binding, channel: channel)
            topology.removeAll { $0 == .binding(binding) }
            return .done
        case .purgeQueue(let name):
            return .messageCount(try session.purgeQueue(name, channel: channel))
        case .deleteQueue(let name, let ifUnused, let ifEmpty):
            let count = try session.deleteQueue(name, ifUnused: ifUnused, ifEmpty: ifEmpty, channel: channel)
            topology.removeAll { step in
                switch step {
                case .queue(let queue): queue.name == name
                case .binding(let binding): binding.queue == name
                case .exchange: false
                }
            }
            return .messageCount(count)
        case .deleteExchange(let name, let ifUnused):
            try session.deleteExchange(name, ifUnused: ifUnused, channel: channel)
            topology.removeAll { step in
                switch step {
                case .exchange(let exchange): exchange.name == name
                case .binding(let binding): binding.exchange == name
                case .queue: false
                }
            }
            return .done
        }
    }

    private func remember(_ step: TopologyStep) {
        if !topology.contains(step) { topology.append(step) }
    }

    private func flushPublishes() {
        guard machine.isConnected, !blockedByBroker, !waitingPublishes.isEmpty else { return }
        let channel: UInt16
        do throws(SessionFailure) {
            channel = try ensurePublishChannel()
        } catch {
            handleFailure(error)
            return
        }
        while confirms.count < configuration.confirmWindow, let pending = waitingPublishes.popFirst() {
            if pending.isSettled { continue }
            _ = confirms.register(pending)
            do throws(SessionFailure) {
                try session!.publish(
                    pending.message, exchange: pending.exchange, routingKey: pending.routingKey,
                    mandatory: pending.mandatory, channel: channel)
            } catch {
                if error.scope == .operationOnly {
                    _ = confirms.unregisterLast()
                    pending.settle(.failure(error.error))
                    continue
                }
                handleFailure(error)
                return
            }
        }
    }

    private func expireDeadlines(_ now: ContinuousClock.Instant) {
        // Built only when something expires: this runs on every turn of the loop.
        var timeout: AMQPError {
            AMQPError(.confirmTimeout, "the broker did not confirm the message within \(configuration.publishTimeout)")
        }
        while let first = waitingPublishes.first, first.isSettled || first.deadline <= now {
            waitingPublishes.removeFirst()
            first.settle(.failure(timeout))
        }
        while let (tag, oldest) = confirms.oldest, oldest.isSettled || oldest.deadline <= now {
            _ = confirms.forget(tag: tag)
            oldest.settle(.failure(timeout))
        }
        while let first = waitingRequests.first, first.deadline <= now {
            waitingRequests.removeFirst()
            first.continuation.resume(
                throwing: AMQPError(.timeout, "no answer from the broker within \(configuration.requestTimeout)"))
        }
    }

    // MARK: - Input

    /// Handles up to `limit` frames already received; false when there was none.
    private func readFrames(limit: Int) -> Bool {
        var handled = 0
        while handled < limit, let session {
            let frame: IncomingFrame?
            do throws(SessionFailure) {
                frame = try session.nextFrame()
            } catch {
                handleFailure(error)
                return true
            }
            guard let frame else {
                session.releaseBuffers()
                return handled > 0
            }
            handled += 1
            handle(frame)
        }
        return true
    }

    private func handle(_ frame: IncomingFrame) {
        switch frame {
        case .deliver(let channel, let deliver):
            partials[channel] = PartialContent(kind: .delivery(deliver))
        case .returned(let channel, let returned):
            partials[channel] = PartialContent(kind: .returned(returned))
        case .contentHeader(let channel, let bodySize, let properties):
            guard partials[channel] != nil else { return }
            partials[channel]!.headerReceived = true
            partials[channel]!.bodySize = bodySize
            partials[channel]!.properties = properties
            partials[channel]!.body.reserveCapacity(bodySize)
            if partials[channel]!.isComplete { completeContent(on: channel) }
        case .contentBody(let channel, let fragment):
            guard partials[channel] != nil else { return }
            partials[channel]!.body.append(contentsOf: fragment)
            if partials[channel]!.isComplete { completeContent(on: channel) }
        case .confirm(let channel, let tag, let multiple, let acknowledged):
            guard channel == publishChannel else { return }
            for pending in confirms.settle(tag: tag, multiple: multiple) {
                if !acknowledged {
                    pending.settle(.failure(AMQPError(.nacked, "the broker refused the message (basic.nack)")))
                } else if let returned = pending.returnedError {
                    pending.settle(.failure(returned))
                } else {
                    pending.settle(.success(()))
                }
            }
            if !acknowledged { retirePublishChannel() }
        case .channelClosed(let channel, let error):
            channelClosed(channel, error)
        case .connectionClosed(let error):
            connectionLost(error)
        case .consumerCancelled(let channel, _):
            guard case .consumer(let id) = roles[channel], let consumer = consumers.removeValue(forKey: id) else {
                return
            }
            consumer.deliveries.finish(
                throwing: AMQPError(
                    .consumerCancelled, "the broker cancelled the consumer of queue '\(consumer.queue)'"))
            if let session { try? session.closeChannel(channel) }
            roles[channel] = nil
        case .blocked(let reason):
            blockedByBroker = true
            logger.warning("AMQP connection blocked by the broker", metadata: ["reason": "\(reason)"])
            events.yield(.blocked(reason: reason))
        case .unblocked:
            blockedByBroker = false
            events.yield(.unblocked)
        case .other:
            break
        }
    }

    private func completeContent(on channel: UInt16) {
        guard let content = partials.removeValue(forKey: channel) else { return }
        switch content.kind {
        case .delivery(let deliver):
            guard case .consumer(let id) = roles[channel], let consumer = consumers[id] else { break }
            consumer.lastDeliveryTag = deliver.deliveryTag
            consumer.deliveries.yield(
                AMQPDelivery(
                    body: content.body, properties: content.properties, exchange: deliver.exchange,
                    routingKey: deliver.routingKey, redelivered: deliver.redelivered,
                    deliveryTag: deliver.deliveryTag, consumerTag: deliver.consumerTag,
                    settler: DeliverySettler(
                        driver: self, consumerID: id, generation: consumer.generation)))
        case .returned(let returned):
            let error = AMQPError(
                .unroutable,
                "exchange '\(returned.exchange)' routed the message with routing key '\(returned.routingKey)' to no queue (\(returned.replyText))",
                replyCode: returned.replyCode)
            let messageID = content.properties.messageID
            // The broker returns a message before confirming it, in publish order: the earliest
            // unconfirmed mandatory publish to that exchange and key is the one returned.
            let match = confirms.first { pending in
                pending.mandatory && pending.returnedError == nil && pending.exchange == returned.exchange
                    && pending.routingKey == returned.routingKey && pending.message.properties.messageID == messageID
            }
            match?.returnedError = error
        }
        session?.releaseBuffers(channel: channel)
    }

    /// After a nack: a channel that published to a quorum queue while its leader moved to another
    /// node can go on refusing every message (RabbitMQ 3.10 keeps that channel's publisher state
    /// per queue). It is closed, and what it had not confirmed goes again on a new channel.
    private func retirePublishChannel() {
        guard let channel = publishChannel else { return }
        logger.info("AMQP publish channel replaced after a nack", metadata: ["channel": "\(channel)"])
        publishChannel = nil
        roles[channel] = nil
        try? session?.closeChannel(channel)
        for pending in confirms.removeAll().reversed() where !pending.isSettled {
            waitingPublishes.prepend(pending)
        }
    }

    // MARK: - Failures

    private func handleFailure(_ failure: SessionFailure) {
        switch failure.scope {
        case .connectionBroken: connectionLost(failure.error)
        case .channelClosed(let channel): channelClosed(channel, failure.error)
        case .operationOnly: break
        }
    }

    private func channelClosed(_ channel: UInt16, _ error: AMQPError) {
        let role = roles.removeValue(forKey: channel)
        partials[channel] = nil
        logger.debug("AMQP channel closed by the broker", metadata: ["channel": "\(channel)", "error": "\(error)"])
        switch role {
        case .control:
            controlChannel = nil
        case .publisher:
            // The broker will not confirm what it had not confirmed on that channel: those callers
            // get the reason; the next publish opens a new channel.
            publishChannel = nil
            for pending in confirms.removeAll() { pending.settle(.failure(error)) }
        case .consumer(let id):
            if let consumer = consumers.removeValue(forKey: id) {
                consumer.deliveries.finish(throwing: error)
            }
        case nil:
            break
        }
    }

    private func connectionLost(_ error: AMQPError) {
        guard machine.isConnected else { return }
        logger.warning("AMQP connection lost", metadata: ["error": "\(error)"])
        events.yield(.disconnected(error))
        firstNodeToTry = (connectedNode + 1) % configuration.nodes.count
        session?.abandon()
        session = nil
        roles.removeAll()
        partials.removeAll()
        controlChannel = nil
        publishChannel = nil
        blockedByBroker = false
        // Unconfirmed messages go first, in their order, to be published again after recovery.
        for pending in confirms.removeAll().reversed() where !pending.isSettled {
            waitingPublishes.prepend(pending)
        }
        for consumer in consumers.values { consumer.channel = nil }
        perform(machine.connectionLost(error, now: .now))
    }

    private func failEverything(_ error: AMQPError) {
        let leftover = inbox.withLock { box in
            box.accepting = false
            box.endedBy = error
            var taken: [DriverCommand] = []
            swap(&taken, &box.commands)
            return taken
        }
        for command in leftover {
            switch command {
            case .publish(let pending): pending.settle(.failure(error))
            case .control(let request): request.continuation.resume(throwing: error)
            case .consume(let consumer, let waiter):
                consumer.deliveries.finish(throwing: error)
                waiter.resume(throwing: error)
            case .cancel(_, let waiter): waiter?.resume()
            case .settle: break
            case .close(let waiter): if let waiter { closeWaiters.append(waiter) }
            case .runJob(let job): globalConcurrentExecutor.enqueue(job)
            }
        }
        for pending in waitingPublishes { pending.settle(.failure(error)) }
        waitingPublishes.removeAll()
        for pending in confirms.removeAll() { pending.settle(.failure(error)) }
        for request in waitingRequests { request.continuation.resume(throwing: error) }
        waitingRequests.removeAll()
        let closedByApplication = error.kind == .closedByApplication
        for consumer in consumers.values {
            if closedByApplication {
                consumer.deliveries.finish()
            } else {
                consumer.deliveries.finish(throwing: error)
            }
        }
        consumers.removeAll()
        session?.abandon()
        session = nil
        events.yield(.closed(closedByApplication ? nil : error))
        running = false
    }

    private func finish() {
        events.finish()
        for waiter in closeWaiters { waiter.resume() }
        closeWaiters.removeAll()
    }
}

/// The driver's thread as a task executor: tasks that prefer it run between the driver's own
/// steps, so that resuming them after a confirm or a delivery, and their next publish or ack, need
/// no hop between threads. Once the connection has ended, jobs go to the global executor.
extension ConnectionDriver: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !submit(.runJob(job)) { globalConcurrentExecutor.enqueue(job) }
    }
}

/// Settles one delivery through what received it: the driver of its connection, or another
/// transport (a test's in-memory broker). An enum, so that the connection's deliveries, one per
/// message, allocate no closure.
enum DeliverySettler: Sendable {
    case driver(ConnectionDriver, consumerID: Int, generation: UInt64)
    case other(@Sendable (_ deliveryTag: UInt64, Settlement) -> Void)

    init(driver: ConnectionDriver, consumerID: Int, generation: UInt64) {
        self = .driver(driver, consumerID: consumerID, generation: generation)
    }

    init(_ settle: @escaping @Sendable (_ deliveryTag: UInt64, Settlement) -> Void) {
        self = .other(settle)
    }

    func settle(deliveryTag: UInt64, _ settlement: Settlement) {
        switch self {
        case .driver(let driver, let consumerID, let generation):
            driver.submit(.settle(consumerID: consumerID, generation: generation, deliveryTag: deliveryTag, settlement))
        case .other(let settle):
            settle(deliveryTag, settlement)
        }
    }
}
