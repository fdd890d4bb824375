public import AMQP
import Foundation
public import GovBus
import GovBusContracts
import GovBusTelemetry
public import GovBusStore
import Synchronization
public import Logging
import Tracing

/// The hub: takes each message of `govbus.core.ingress` through the ingress checks, drops
/// duplicates, records it in the audit log, publishes it to the adapters the routes file names,
/// and hands dossier messages to the process manager, whose messages it publishes in turn. The
/// input is acked only after its audit record, its state change and the confirmed publish of its
/// outputs; a message that fails a check goes to the dead letters (confirmed) with the check's name
/// and reason; a failure that may pass later goes through the delayed retry queues.
///
/// Messages go through a pipeline of two stages, after a stage 0 that verifies the signatures of
/// each batch side by side on every core (the checks use each outcome in their own order). The
/// first takes the messages that have arrived,
/// in order: checks each, looks the batch up in the ledger and the audit log in one read, appends
/// its audit records in one transaction, changes the dossiers' state and hands the outputs to the
/// connection. The second awaits their confirms in the same order, marks the batch handled in one
/// transaction and acks. So the core neither sits idle for a confirm nor commits once per message:
/// up to `prefetch` messages are in the pipe.
public final class CoreRouter: Sendable {
    public struct Counters: Sendable, Hashable {
        public var routed = 0
        public var duplicates = 0
        public var rejected: [IngressChecks.Check: Int] = [:]
    }

    /// A message past the first stage, its outputs handed to the connection.
    private struct InFlight: Sendable {
        enum Outcome: Sendable {
            case routed(MessageKey, type: String)
            case rejected(IngressChecks.Check)
            case duplicate
            /// A dead letter replayed to the adapter that had rejected it.
            case replayed
            /// The first stage failed in a way that may pass later (the store busy).
            case failed(reason: String)
        }

        let delivery: AMQPDelivery
        let outcome: Outcome
        let publishing: AMQPPublishing?
        let received: ContinuousClock.Instant
        /// The queue it came from, where a retry goes back to.
        let queue: String
        let span: (any Span)?
        let trace: TraceHeaders?

        init(_ arrival: Arrival, outcome: Outcome, publishing: AMQPPublishing? = nil) {
            delivery = arrival.delivery
            self.outcome = outcome
            self.publishing = publishing
            received = arrival.received
            queue = arrival.queue
            span = arrival.span
            trace = arrival.trace
        }
    }

    /// The routes and keys in force, and their version (1 at start, one more each `apply`).
    private let current: Mutex<(version: Int, checks: IngressChecks)>
    private let coreUser: String
    private let audit: AuditLog
    private let ledger: MessageLedger
    private let processManager: ProcessManager?
    private let connection: any AMQPTransport
    private let metrics: CoreMetrics
    private let logger: Logger
    private let counters = Mutex(Counters())
    /// Messages past the first stage and not yet settled: a copy of one of them that arrives
    /// meanwhile is a duplicate too (if the first fails, its retry still carries the message).
    private let inFlightKeys = Mutex(Set<MessageKey>())
    private let replies: ReplyCorrelation?
    /// Signs the messages the core makes, so that receivers and the audit log can tell them apart.
    private let signer: MessageSigner?
    private let witness: CrashWitness?
    private let faults: CoreFaults

    /// The router with its ledger in an SQLite file of its own (tests and tools).
    public convenience init(
        checks: IngressChecks, audit: AuditLog, ledgerPath: String, processManager: ProcessManager? = nil,
        connection: any AMQPTransport, signer: MessageSigner? = nil, crashWitnessPath: String? = nil,
        faults: CoreFaults = .none, metrics: CoreMetrics = CoreMetrics(), logger: Logger
    ) throws {
        try self.init(
            checks: checks, audit: audit, ledger: MessageLedger(path: ledgerPath), processManager: processManager,
            connection: connection, signer: signer, crashWitnessPath: crashWitnessPath, faults: faults, metrics: metrics,
            logger: logger)
    }

    /// `crashWitnessPath`: where the core notes the message in hand (see `CrashWitness`); nil for none.
    public init(
        checks: IngressChecks, audit: AuditLog, ledger: MessageLedger, processManager: ProcessManager? = nil,
        connection: any AMQPTransport, signer: MessageSigner? = nil, crashWitnessPath: String? = nil,
        faults: CoreFaults = .none, metrics: CoreMetrics = CoreMetrics(), logger: Logger
    ) throws {
        self.current = Mutex((1, checks))
        self.coreUser = connection.user
        self.audit = audit
        self.ledger = ledger
        self.processManager = processManager
        self.replies = processManager.map { ReplyCorrelation(coreUser: connection.user, audit: audit, processManager: $0) }
        self.connection = connection
        self.signer = signer
        self.witness = try crashWitnessPath.map(CrashWitness.init(path:))
        self.faults = faults
        self.metrics = metrics
        self.logger = logger
    }

    public var counts: Counters { counters.withLock { $0 } }

    /// The routes and keys in force now.
    public var checks: IngressChecks { current.withLock { $0.checks } }

    /// New routes and keys (a reloaded configuration), in force from the next batch the first
    /// stage takes: every message is checked and routed by one version, whole.
    public func apply(_ checks: IngressChecks) {
        current.withLock { $0 = ($0.version + 1, checks) }
    }

    /// How long a core waits before it stands by on the other cores' partitions (`standbyDelay`).
    public static let defaultStandbyDelay = Duration.seconds(5)

    /// Consumes the core's queues until the consumers end; then settles what is in the pipe.
    /// `queues` are this core's own partitions, registered on at once; `standby` the others,
    /// registered on after `standbyDelay`, so that cores started together share the partitions
    /// (a partition's single active consumer is the first registered) and each stands by for the
    /// others'. `prefetch` is shared among the queues.
    public func run(
        queues: [String] = [CoreTopology.coreQueue], standby: [String] = [], standbyDelay: Duration = defaultStandbyDelay,
        prefetch: UInt16 = 256
    ) async throws {
        let perQueue = UInt16(max(16, Int(prefetch) / max(1, queues.count + standby.count)))
        // Unbounded in type only: the broker sends at most `prefetch` messages not yet acked per queue.
        let arrived = BatchQueue<Arrival>()
        let verified = BatchQueue<Arrival>()
        let pipe = BatchQueue<InFlight>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { arrived.finish() }
                try await withThrowingTaskGroup(of: Void.self) { consumers in
                    for queue in queues + standby {
                        let waits = standby.contains(queue)
                        consumers.addTask {
                            if waits { try await Task.sleep(for: standbyDelay) }
                            let consumer = try await self.connection.consume(
                                queue: queue, prefetch: perQueue, exclusive: false, arguments: [:])
                            for try await delivery in consumer {
                                arrived.append(Arrival(delivery, queue: queue))
                            }
                        }
                    }
                    try await consumers.next()
                    consumers.cancelAll()
                }
            }
            group.addTask {
                defer { verified.finish() }
                while case let batch = await arrived.next(limit: Self.batchLimit), !batch.isEmpty {
                    for arrival in self.verifyingSignatures(batch) { verified.append(arrival) }
                }
            }
            group.addTask {
                while case let batch = await pipe.next(limit: Int(prefetch)), !batch.isEmpty {
                    await self.settle(batch)
                }
            }
            while case let batch = await verified.next(limit: Self.batchLimit), !batch.isEmpty {
                for inFlight in take(batch) { pipe.append(inFlight) }
            }
            pipe.finish()
            try await group.waitForAll()
        }
    }

    /// A delivery as it arrived, from which queue; then with its signature checked.
    private struct Arrival: Sendable {
        let delivery: AMQPDelivery
        let received: ContinuousClock.Instant
        let queue: String
        var signature: Result<String, SignatureError>?
        /// The version of the routes and keys its signature was verified with.
        var version = 0
        /// Its handling, a child of the trace it came in (traces on), ended once it is settled.
        let span: (any Span)?
        /// What the copies and messages it causes carry on: the span's context, or (traces off)
        /// the one it came with.
        let trace: TraceHeaders?

        init(_ delivery: AMQPDelivery, queue: String) {
            self.delivery = delivery
            received = ContinuousClock.now
            self.queue = queue
            let properties = delivery.properties
            let came = TraceHeaders(of: properties)
            span = MessagingSpan.process(
                queue: queue, type: properties.type, messageID: properties.messageID, dossierID: properties.correlationID,
                headers: came)
            trace = span?.traceHeaders ?? came
        }
    }

    /// Before the first stage: a batch's signatures, the costliest of the checks, verified side by
    /// side on every core, while the first stage works on the batch before. Each outcome travels
    /// with its message, and the checks use it in their order.
    private func verifyingSignatures(_ batch: [Arrival]) -> [Arrival] {
        let (version, checks) = current.withLock { $0 }
        let outcomes = UnsafeMutableBufferPointer<Result<String, SignatureError>?>.allocate(capacity: batch.count)
        outcomes.initialize(repeating: nil)
        defer {
            _ = outcomes.deinitialize()
            outcomes.deallocate()
        }
        // Each iteration writes its own slot only, and all are done when concurrentPerform returns.
        nonisolated(unsafe) let slots = outcomes
        DispatchQueue.concurrentPerform(iterations: batch.count) { index in
            let delivery = batch[index].delivery
            slots[index] = checks.verifySignature(of: AMQPMessage(body: delivery.body, properties: delivery.properties))
        }
        return batch.indices.map { index in
            var arrival = batch[index]
            arrival.signature = outcomes[index]
            arrival.version = version
            return arrival
        }
    }

    /// At most this many messages share a transaction: more would hold the first ones' outputs back.
    static let batchLimit = 32

    /// The first stage: checks, dedup, audit, the dossiers' state; the outputs handed out.
    private func take(_ batch: [Arrival]) -> [InFlight] {
        let (version, checks) = current.withLock { $0 }
        // Verified before a reload: verified again, so that one version checks the whole batch.
        // (Almost never: the batch is copied only then.)
        var batch = batch
        for index in batch.indices where batch[index].version != version {
            batch[index].signature = checks.verifySignature(
                of: AMQPMessage(body: batch[index].delivery.body, properties: batch[index].delivery.properties))
            batch[index].version = version
        }
        var taken: [InFlight?] = Array(repeating: nil, count: batch.count)
        var accepted: [(index: Int, message: IngressChecks.Accepted, key: MessageKey, witnessKey: String?)] = []
        for (index, arrival) in batch.enumerated() {
            switch admit(arrival, checks: checks) {
            case .accepted(let message, let key, let witnessKey): accepted.append((index, message, key, witnessKey))
            case .settled(let inFlight): taken[index] = inFlight
            }
        }
        witness?.release()
        do {
            let keys = accepted.map(\.key)
            let handled = try ledger.handled(among: keys)
            var entries: [AuditLog.Entry] = []
            var routes: [Int: [String]] = [:]
            for (index, message, key, _) in accepted where !handled.contains(key) {
                let receivers = checks.receivers(of: message.type, attributes: Self.attributes(of: message.body))
                routes[index] = receivers
                entries.append(
                    AuditLog.Entry(
                        messageID: message.messageID, type: message.type, sender: message.sender, receivers: receivers,
                        correlationID: message.correlationID, body: Data(batch[index].delivery.body),
                        signature: message.signature))
            }
            // A message delivered again after a crash (to this core or another) is recorded once.
            try audit.append(entries, unlessRecorded: true)
            // The dossiers' state changes; what they send is recorded too, before it goes out.
            var outgoing: [Int: [AMQPOutgoingMessage]] = [:]
            var outputs: [PreparedOutput] = []
            for (index, message, key, witnessKey) in accepted {
                let arrival = batch[index]
                let delivery = arrival.delivery
                guard let receivers = routes[index] else {
                    inFlightKeys.withLock { _ = $0.remove(key) }
                    taken[index] = InFlight(arrival, outcome: .duplicate)
                    continue
                }
                if let witnessKey { witness?.hold(witnessKey) }
                do {
                    let routed = try route(
                        message, delivery: delivery, to: receivers, trace: arrival.trace, span: arrival.span, checks: checks)
                    outgoing[index] = routed.messages
                    outputs += routed.outputs
                } catch let refusal as ProcessManager.Refusal {
                    inFlightKeys.withLock { _ = $0.remove(key) }
                    taken[index] = deadLetter(
                        arrival, because: IngressChecks.Rejection(check: .process, reason: refusal.description))
                } catch {
                    inFlightKeys.withLock { _ = $0.remove(key) }
                    taken[index] = InFlight(arrival, outcome: .failed(reason: "\(error)"))
                }
            }
            witness?.release()
            try recordOutputs(outputs)
            for (index, message, key, _) in accepted {
                guard let messages = outgoing[index] else { continue }
                countSent(messages)
                taken[index] = InFlight(
                    batch[index], outcome: .routed(key, type: message.type), publishing: connection.startPublishing(messages))
            }
        } catch {
            // The stores failed for the whole batch: every accepted message not settled already
            // (dead-lettered by the process) is tried again later.
            for (index, _, key, _) in accepted where taken[index] == nil {
                inFlightKeys.withLock { _ = $0.remove(key) }
                taken[index] = InFlight(batch[index], outcome: .failed(reason: "\(error)"))
            }
        }
        return taken.map { $0! }
    }

    /// What the checks make of a delivery: a message to record and route, or one settled already
    /// (dead-lettered, replayed, a copy of one in the pipe, or to be tried again later).
    private enum Admission {
        /// With the crash witness's key of the message, when there is a witness.
        case accepted(IngressChecks.Accepted, MessageKey, witnessKey: String?)
        case settled(InFlight)
    }

    private func admit(_ arrival: Arrival, checks: IngressChecks) -> Admission {
        let delivery = arrival.delivery
        // Worked out once per message, and only when a witness listens.
        let witnessKey = witness.map { _ in CrashWitness.key(of: (delivery.properties.userID, delivery.properties.messageID)) }
        if let witnessKey, witness?.killedThePreviousRun(witnessKey, redelivered: delivery.redelivered) == true {
            return .settled(
                deadLetter(
                    arrival,
                    because: IngressChecks.Rejection(check: .crash, reason: "the core died while it had this message in hand")))
        }
        if let witnessKey { witness?.hold(witnessKey) }
        faults.crashIfAsked(correlationID: delivery.properties.correlationID)
        do {
            let message = try checks.check(
                AMQPMessage(body: delivery.body, properties: delivery.properties), signature: arrival.signature)
            if let target = message.replayTo {
                return .settled(try replay(message, to: target, arrival: arrival, checks: checks))
            }
            if let rejection = try replies?.check(message) { throw rejection }
            metrics.received(type: message.type)
            if message.type == AdapterHeartbeatV1.messageType { metrics.heartbeat(from: message.sender) }
            let key = MessageKey(sender: message.sender, messageID: message.messageID)
            // A copy of a message in the pipe (or earlier in this batch) is a duplicate too.
            guard inFlightKeys.withLock({ $0.insert(key).inserted }) else {
                return .settled(InFlight(arrival, outcome: .duplicate))
            }
            return .accepted(message, key, witnessKey: witnessKey)
        } catch let rejection as IngressChecks.Rejection {
            return .settled(deadLetter(arrival, because: rejection))
        } catch {
            // The audit log or the dossier store could not be read: the message is tried later.
            return .settled(InFlight(arrival, outcome: .failed(reason: "\(error)")))
        }
    }

    private func deadLetter(_ arrival: Arrival, because error: IngressChecks.Rejection) -> InFlight {
        let delivery = arrival.delivery
        let message = AMQPMessage(body: delivery.body, properties: delivery.properties)
        logger.info(
            "message rejected",
            metadata: ["check": "\(error.check.rawValue)", "reason": "\(error.reason)", "type": "\(message.properties.type ?? "")"])
        let deadLetter = message.withoutForgedCoreHeaders(coreUser: coreUser).forwarded(byCore: coreUser).deadLettered(
            check: error.check.rawValue, reason: error.reason, where: "core", at: Date()
        ).carrying(arrival.trace)
        return InFlight(
            arrival, outcome: .rejected(error.check),
            publishing: connection.startPublishing([
                AMQPOutgoingMessage(
                    deadLetter, exchange: CoreTopology.deadExchange, routingKey: delivery.routingKey, mandatory: true)
            ]))
    }

    /// A dead letter an adapter had rejected, replayed by an operator and checked again: back to that
    /// adapter only, if it receives the type for that dossier (and a refund only for what was paid).
    private func replay(
        _ message: IngressChecks.Accepted, to target: String, arrival: Arrival, checks: IngressChecks
    ) throws -> InFlight {
        let delivery = arrival.delivery
        guard let replies else {
            throw IngressChecks.Rejection(check: .correlation, reason: "this core runs no dossier process to check a replay against")
        }
        if let rejection = try replies.checkReplay(message, to: target, checks: checks) { throw rejection }
        var copy = AMQPMessage(body: delivery.body, properties: delivery.properties).carrying(arrival.trace)
        copy.properties.headers?[BusHeader.replayTo] = nil
        logger.info("dead letter replayed", metadata: ["type": "\(message.type)", "to": "\(target)"])
        return InFlight(
            arrival, outcome: .replayed,
            publishing: connection.startPublishing([
                AMQPOutgoingMessage(
                    copy, exchange: CoreTopology.deliverExchange, routingKey: "\(target).\(message.type)", mandatory: true)
            ]))
    }

    /// An accepted, audited message: to its receivers, and to the process manager, whose
    /// messages go out with it.
    private func route(
        _ accepted: IngressChecks.Accepted, delivery: AMQPDelivery, to receivers: [String], trace: TraceHeaders?,
        span: (any Span)?, checks: IngressChecks
    ) throws -> (messages: [AMQPOutgoingMessage], outputs: [PreparedOutput]) {
        let forwarded = AMQPMessage(body: delivery.body, properties: delivery.properties).forwarded(byCore: coreUser)
            .carrying(trace)
        var messages = receivers.map { receiver in
            AMQPOutgoingMessage(
                forwarded, exchange: CoreTopology.deliverExchange, routingKey: "\(receiver).\(accepted.type)", mandatory: true)
        }
        guard let processManager, ProcessManager.handledTypes.contains(accepted.type) else { return (messages, []) }
        let handled = try processManager.handle(
            type: accepted.type, body: Data(delivery.body), messageID: accepted.messageID, sender: accepted.sender,
            trace: trace?.parent)
        if let ignored = handled.ignoredBecause {
            logger.info("reply recorded, nothing changed", metadata: ["dossier": "\(accepted.correlationID)", "why": "\(ignored)"])
        }
        if let span, let dossierTrace = TraceHeaders(parent: handled.dossierTrace, state: nil) {
            span.addLink(SpanLink(context: dossierTrace.context, attributes: [:]))
        }
        if let completion = handled.completion {
            metrics.completed(procedure: completion.procedure, after: completion.duration, deadline: completion.legalDeadline)
        }
        let prepared = try prepare(handled.outputs, checks: checks)
        messages += prepared.flatMap(\.outgoing)
        return (messages, prepared)
    }

    /// A process manager's message, signed, with the adapters that receive it.
    struct PreparedOutput: Sendable {
        let output: OutgoingMessage
        let message: AMQPMessage
        let receivers: [String]

        var outgoing: [AMQPOutgoingMessage] {
            receivers.map { receiver in
                AMQPOutgoingMessage(
                    message, exchange: CoreTopology.deliverExchange, routingKey: "\(receiver).\(output.type)", mandatory: true)
            }
        }
    }

    /// The process manager's messages in the audit log, sent by the core, once each (a message
    /// handled again after a crash sends the same ones again).
    private func recordOutputs(_ prepared: [PreparedOutput]) throws {
        guard !prepared.isEmpty else { return }
        try audit.append(
            prepared.map { item in
                AuditLog.Entry(
                    messageID: item.output.messageID, type: item.output.type, sender: coreUser, receivers: item.receivers,
                    correlationID: item.output.correlationID, body: item.output.body,
                    signature: item.message.properties.headers?[BusHeader.signature]?.stringValue ?? "")
            }, unlessRecorded: true)
    }

    /// The second stage: once a batch's outputs are confirmed, its messages are marked handled
    /// (one transaction) and acked, in order.
    private func settle(_ batch: [InFlight]) async {
        var confirmed: [Bool] = []
        var failures: [Int: String] = [:]
        for (index, inFlight) in batch.enumerated() {
            do {
                try await inFlight.publishing?.confirmed()
                confirmed.append(true)
            } catch {
                confirmed.append(false)
                failures[index] = "\(error)"
            }
        }
        var routedKeys: [MessageKey] = []
        var confirmedKeys: [MessageKey] = []
        for (index, inFlight) in batch.enumerated() {
            guard case .routed(let key, _) = inFlight.outcome else { continue }
            routedKeys.append(key)
            if confirmed[index] { confirmedKeys.append(key) }
        }
        var markFailure: String?
        do {
            try ledger.markHandled(confirmedKeys)
            faults.killIfAsked(afterSyncing: confirmedKeys.count)
        } catch {
            markFailure = "\(error)"
        }
        // Out of the pipe, confirmed or not: a retry that comes back must not look like a copy.
        inFlightKeys.withLock { $0.subtract(routedKeys) }
        for (index, inFlight) in batch.enumerated() {
            let delivery = inFlight.delivery
            defer { inFlight.span?.end() }
            if let failure = failures[index] {
                await retryLater(inFlight, because: failure)
                continue
            }
            switch inFlight.outcome {
            case .routed(_, let type):
                if let markFailure {
                    await retryLater(inFlight, because: markFailure)
                    continue
                }
                counters.withLock { $0.routed += 1 }
                metrics.routed(type: type, in: ContinuousClock.now - inFlight.received)
            case .rejected(let check):
                counters.withLock { $0.rejected[check, default: 0] += 1 }
                metrics.rejected(check: check.rawValue)
                inFlight.span?.setStatus(SpanStatus(code: .error, message: "dead-lettered: the \(check.rawValue) check"))
            case .duplicate:
                counters.withLock { $0.duplicates += 1 }
                metrics.duplicate()
            case .replayed:
                break
            case .failed(let reason):
                await retryLater(inFlight, because: reason)
                continue
            }
            delivery.ack()
        }
    }

    /// A failure that may pass later (the store busy, a publish not confirmed): the message waits
    /// in the next retry queue, then comes back; after the last one it goes to the dead letters.
    private func retryLater(_ inFlight: InFlight, because error: String) async {
        let (delivery, queue) = (inFlight.delivery, inFlight.queue)
        inFlight.span?.setStatus(SpanStatus(code: .error, message: "tried again later: \(error)"))
        // The retry continues the trace.
        let message = AMQPMessage(body: delivery.body, properties: delivery.properties).carrying(inFlight.trace)
        // Only the core's own copies count their attempts; the header on an adapter's message is
        // refused by the checks, and the count is kept in range whatever it says.
        let counted = message.properties.userID == coreUser ? message.properties.headers?[BusHeader.attempt]?.integerValue : nil
        let attempt = Int(clamping: min(max(counted ?? 1, 1), Int64(CoreTopology.retryDelays.count + 1)))
        do {
            if attempt <= CoreTopology.retryDelays.count {
                var retry = message.withoutForgedCoreHeaders(coreUser: coreUser).forwarded(byCore: coreUser)
                retry.properties.headers = (retry.properties.headers ?? [:]).merging(
                    [BusHeader.attempt: .int32(Int32(attempt + 1))], uniquingKeysWith: { _, new in new })
                let delay = CoreTopology.retryDelays[attempt - 1].label
                try await connection.publish(
                    retry, exchange: CoreTopology.retryExchange(delay), routingKey: queue, mandatory: true)
                metrics.retried(finally: false)
                logger.warning("routing failed; retry in \(delay)", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            } else {
                try await connection.publish(
                    message.withoutForgedCoreHeaders(coreUser: coreUser).forwarded(byCore: coreUser).deadLettered(
                        check: "delivery", reason: "\(error)", where: "core", at: Date()),
                    exchange: CoreTopology.deadExchange, routingKey: delivery.routingKey, mandatory: true)
                metrics.retried(finally: true)
                logger.error("routing failed after \(attempt) attempts; dead-lettered", metadata: ["error": "\(error)"])
            }
            delivery.ack()
        } catch {
            // Not even the retry could be published: leave it to the broker, a little later.
            logger.error("cannot publish a retry", metadata: ["error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            delivery.nack(requeue: true)
        }
    }

    /// The process manager's messages, addressed to the adapters that receive them.
    struct NoReceiver: Error, CustomStringConvertible {
        let description: String
    }

    /// The process manager's messages, signed with the core's key, and their receivers.
    func prepare(_ outputs: [OutgoingMessage], checks: IngressChecks? = nil) throws -> [PreparedOutput] {
        let checks = checks ?? self.checks
        return try outputs.map { output in
            var message = AMQPMessage(
                body: Array(output.body),
                properties: AMQPProperties(
                    contentType: "application/json", headers: [BusHeader.causationID: .string(output.causationID)],
                    deliveryMode: .persistent, correlationID: output.correlationID, messageID: output.messageID,
                    timestamp: Date(), type: output.type, userID: coreUser, appID: "govbus-core")
            ).carrying(TraceHeaders(parent: output.traceparent, state: nil))
            if let signer { message = try signer.sign(message) }
            return PreparedOutput(output: output, message: message, receivers: try receivers(of: output, checks: checks))
        }
    }

    /// The adapters the routes file names for a process manager's message.
    private func receivers(of output: OutgoingMessage, checks: IngressChecks) throws -> [String] {
        var attributes: [RoutesFile.Rule.Field: String] = [:]
        for (name, value) in output.routingAttributes {
            if let field = RoutesFile.Rule.Field(rawValue: name) { attributes[field] = value }
        }
        let receivers = checks.receivers(of: output.type, attributes: attributes)
        guard !receivers.isEmpty else {
            // The dossier's state moved; its message must not vanish: retried, then dead-lettered.
            throw NoReceiver(description: "no adapter of the routes file receives \(output.type)")
        }
        return receivers
    }

    /// Messages out, per type and receiver (the routing key's first part).
    private func countSent(_ messages: [AMQPOutgoingMessage]) {
        for message in messages {
            metrics.sent(type: message.message.properties.type ?? "", to: String(message.routingKey.prefix { $0 != "." }))
        }
    }

    /// Records the process manager's messages in the audit log and publishes them, confirmed.
    func recordAndPublish(_ outputs: [OutgoingMessage]) async throws {
        let prepared = try prepare(outputs)
        try recordOutputs(prepared)
        let messages = prepared.flatMap(\.outgoing)
        countSent(messages)
        try await connection.startPublishing(messages).confirmed()
    }

    /// An operator's retry or rejection of a dossier, from the console: the state change, its
    /// messages recorded and published (confirmed), and the action in the audit log with the
    /// operator's name. Returns the dossier's new state, or why nothing changed.
    public func operatorDecided(
        _ dossierID: String, retry: Bool, reason: String?, operator name: String
    ) async throws -> (state: String, ignoredBecause: String?) {
        guard let processManager else { throw ProcessManager.Failure(description: "this core runs no dossier process") }
        let actionID = UUID().uuidString.lowercased()
        let handled = try processManager.operatorDecided(dossierID, retry: retry, reason: reason, actionID: actionID)
        let record = try JSONSerialization.data(
            withJSONObject: ["action": retry ? "retry" : "reject", "reason": reason ?? "", "state": handled.state,
                "ignoredBecause": handled.ignoredBecause ?? ""],
            options: [.sortedKeys])
        let type = retry ? "operator.dossier.retried" : "operator.dossier.rejected"
        try audit.append(
            kind: .operatorAction, messageID: actionID, type: type, sender: name, receivers: [], correlationID: dossierID,
            body: record, signature: try signature(of: record, messageID: actionID, type: type, correlationID: dossierID))
        try await recordAndPublish(handled.outputs)
        return (handled.state, handled.ignoredBecause)
    }

    /// Records a change of the routes or procedures in force, signed like the core's other
    /// records: who made it, the files' digest, and one line a change.
    public func recordConfigurationChange(_ diff: ConfigurationDiff, digest: String, by who: String) throws {
        let id = UUID().uuidString.lowercased()
        let type = "operator.configuration.applied"
        let record = try JSONSerialization.data(
            withJSONObject: ["digest": digest, "changes": diff.changes], options: [.sortedKeys])
        try audit.append(
            kind: .operatorAction, messageID: id, type: type, sender: who, receivers: [], correlationID: "configuration",
            body: record, signature: try signature(of: record, messageID: id, type: type, correlationID: "configuration"))
    }

    /// The core's signature over a record it writes for itself (the canonical form of a message
    /// with that body, id, type and dossier), so that no record of its own is unsigned.
    private func signature(of body: Data, messageID: String, type: String, correlationID: String) throws -> String {
        guard let signer else { return "" }
        let signed = try signer.sign(
            AMQPMessage(
                body: Array(body),
                properties: AMQPProperties(
                    contentType: "application/json", correlationID: correlationID, messageID: messageID, type: type,
                    userID: coreUser, appID: "govbus-core")))
        return signed.properties.headers?[BusHeader.signature]?.stringValue ?? ""
    }

    /// Fires the step timers as they fall due, until cancelled.
    public func runTimers(every interval: Duration = .seconds(1)) async {
        guard let processManager else { return }
        while !Task.isCancelled {
            do {
                try await recordAndPublish(try processManager.fireDueTimers())
            } catch {
                logger.error("step timers failed; trying again", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// What content-based rules look at: the procedure, the receiving agency and the commune.
    static func attributes(of body: JSONValue) -> [RoutesFile.Rule.Field: String] {
        guard case .object(let object) = body else { return [:] }
        var attributes: [RoutesFile.Rule.Field: String] = [:]
        if case .string(let commune)? = object["communeCode"] { attributes[.communeCode] = commune }
        if case .object(let procedure)? = object["procedure"], case .string(let code)? = procedure["code"] {
            attributes[.procedureCode] = code
        }
        if case .object(let agency)? = object["receivingAgency"], case .string(let code)? = agency["code"] {
            attributes[.receivingAgency] = code
        }
        return attributes
    }
}
