public import AMQP
public import AsyncHTTPClient
import CoreMetrics
public import Foundation
public import GovBus
public import GovBusContracts
import GovBusTelemetry
import Hummingbird
public import Logging
import Prometheus
import ServiceContextModule
import Tracing
import Synchronization

/// The message ids adapters derive from what an event is about (see `GovBus.DerivedID`).
public typealias DerivedID = GovBus.DerivedID

/// What every adapter runs on: its broker connection (recovering by itself), its inbox consumed
/// in lanes (one dossier's messages in order, dossiers side by side), the outbox forwarded signed
/// to `govbus.ingress` once the broker confirms, a heartbeat to the core, and one HTTP server for
/// the connector's routes, `/health` and `/metrics`. It stops when its task is cancelled (the
/// service group does so on SIGTERM): a message in hand whose external call is cut off goes back
/// to the broker unacked, and its redelivery is handled then.
public final class AdapterRuntime: Sendable {
    public let configuration: AdapterConfiguration
    public let outbox: Outbox
    public let logger: Logger
    /// For the connector's calls on its external system.
    public let http: HTTPClient
    public static let version = "0.5.0"

    private let signer: MessageSigner
    /// Derived message ids are keyed, so that no other adapter can predict them.
    private let derivedIDKey: Data
    private let catalog: SchemaCatalog?
    private let brokerUser: String
    private let registry = PrometheusCollectorRegistry()
    private let metrics: any MetricsFactory
    private let health = ConnectionHealth()
    /// Messages stored and not yet confirmed by the broker.
    private let outboxDepth: CoreMetrics.Gauge
    private let brokerConnected: CoreMetrics.Gauge
    private let startedAt = Date()
    private let instance = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"

    /// Inbox messages handled side by side; one dossier's always in the same lane, in order.
    static let lanes = 16

    public init(configuration: AdapterConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileManager.default.createDirectory(at: configuration.dataDirectory, withIntermediateDirectories: true)
        outbox = try Outbox(path: configuration.dataDirectory.appendingPathComponent("outbox.sqlite").path)
        signer = try MessageSigner(keyID: configuration.keyID, base64Seed: configuration.keySeed)
        derivedIDKey = DerivedID.key(fromSigningSeed: Data(base64Encoded: configuration.keySeed) ?? Data())
        brokerUser = try AMQPConfiguration(url: configuration.amqpURL).user
        let metrics = PrometheusMetricsFactory(registry: registry)
        self.metrics = metrics
        outboxDepth = CoreMetrics.Gauge(label: "govbus_adapter_outbox_depth", factory: metrics)
        brokerConnected = CoreMetrics.Gauge(label: "govbus_adapter_broker_connected", factory: metrics)
        catalog = try configuration.schemas.map { try Self.catalog(folder: $0) }
        http = HTTPClient.shared
    }

    /// Compiled once per folder and process: compiling every schema takes a while, and some
    /// processes (tests, a host of several adapters) make several runtimes.
    private static let catalogs = Mutex<[URL: SchemaCatalog]>([:])

    static func catalog(folder: URL) throws -> SchemaCatalog {
        if let compiled = catalogs.withLock({ $0[folder] }) { return compiled }
        let compiled = try SchemaCatalog(folder: folder)
        catalogs.withLock { $0[folder] = compiled }
        return compiled
    }

    /// The id of a message that follows from what it is about (a dossier's code, an order), the same
    /// each time the event is seen, keyed under this adapter's secret: another adapter can neither
    /// predict it nor, the core's dedup being per sender, claim it.
    public func derivedID(_ parts: String...) -> String {
        DerivedID.uuid(key: derivedIDKey, parts)
    }

    /// Stores a message for the bus; it is published once the broker can take it. Returns false
    /// when that message id was stored before (a repeated callback): it goes out once.
    @discardableResult
    public func send<Message: GovBusMessage>(
        _ message: Message, correlationID: String, causationID: String? = nil,
        messageID: String = UUID().uuidString.lowercased()
    ) async throws -> Bool {
        let body = try message.jsonBody()
        if let reason = try schemaRefusal(of: body, type: Message.messageType) {
            throw InvalidMessage(type: Message.messageType, reason: reason)
        }
        // The trace it is made in: the inbox message's being handled, or the HTTP request's.
        let stored = try await outbox.store(
            messageID: messageID, type: Message.messageType, correlationID: correlationID, causationID: causationID,
            body: body, trace: TraceHeaders.current)
        Counter(label: "govbus_adapter_outbox_stored_total", dimensions: [("type", Message.messageType)], factory: metrics)
            .increment()
        return stored
    }

    /// Runs until cancelled, on a connection to the broker of the configuration's `amqpUrl`.
    public func run(_ connector: some Connector) async throws {
        var amqp = try AMQPConfiguration(url: configuration.amqpURL)
        amqp.connectionName = "govbus \(configuration.name) adapter"
        try await run(connector, over: try await AMQPConnection.connect(amqp, logger: logger))
    }

    /// Runs until cancelled, over `connection` (which it closes at the end): a broker connection,
    /// or an in-memory broker in unit tests.
    public func run(_ connector: some Connector, over connection: some AMQPTransport) async throws {
        let router = TelemetryServer.router(service: configuration.name, registry: registry) { [self] in
            var report = health.report
            report.details["outbox"] = (try? outbox.count).map(String.init) ?? "unreadable"
            report.details["version"] = Self.version
            return report
        }
        // The connector's routes only: a scrape of /metrics is not part of any trace.
        router.add(middleware: RequestTracing())
        connector.addRoutes(to: router)
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.listen.host, port: configuration.listen.port),
                serverName: "govbus-\(configuration.name)"),
            logger: logger)
        logger.info(
            "adapter running",
            metadata: ["listen": "\(configuration.listen)", "system": "\(configuration.system.host ?? "?"):\(configuration.system.port ?? 0)"])
        defer { logger.info("adapter stopped") }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.health.follow(connection.events) }
                group.addTask { try await app.run() }
                group.addTask { try await self.consumeInbox(connection, connector: connector) }
                group.addTask { await self.forwardOutbox(connection) }
                group.addTask { await self.sendHeartbeats(connection) }
                try await group.next()
                group.cancelAll()
            }
        } catch is CancellationError {}
        await connection.close()
    }

    /// A message that its schema refuses: the adapter's input was wrong, nothing is stored.
    public struct InvalidMessage: Error, Sendable, CustomStringConvertible {
        public let type: String
        public let reason: String
        public var description: String { "not a valid \(type): \(reason)" }
    }

    // MARK: The inbox

    private func consumeInbox(_ connection: some AMQPTransport, connector: some Connector) async throws {
        let (own, standby) = try await inboxQueues(connection)
        let handlers = connector.handlers
        // Each type's dead letters counted from 0: an alert's increase() sees the first one.
        for type in handlers.types {
            Counter(
                label: "govbus_adapter_inbox_total", dimensions: [("type", type), ("outcome", InboxOutcome.deadLettered.rawValue)],
                factory: metrics
            ).increment(by: 0)
        }
        let lanes = (0..<Self.lanes).map { _ in AsyncStream.makeStream(of: AMQPDelivery.self) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (stream, _) in lanes {
                group.addTask {
                    for await delivery in stream { await self.handle(delivery, with: handlers) }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { consumers in
                for queue in own + standby {
                    let waits = standby.contains(queue)
                    consumers.addTask {
                        // A standby registers later: a partition's active consumer is the first registered.
                        if waits { try await Task.sleep(for: .seconds(2)) }
                        let consumer = try await connection.consume(queue: queue, prefetch: 64, exclusive: false, arguments: [:])
                        for try await delivery in consumer {
                            let key = delivery.properties.correlationID ?? delivery.properties.messageID ?? ""
                            lanes[Int(UInt(bitPattern: Self.stableHash(key)) % UInt(Self.lanes))].1.yield(delivery)
                        }
                    }
                }
                try await consumers.next()
                consumers.cancelAll()
            }
            for (_, input) in lanes { input.finish() }
            try await group.waitForAll()
        }
    }

    /// The queues of this adapter's inbox, once the core has declared them: the single inbox, or
    /// its partitions (`….0`, `….1`, … as many as there are), this instance's share first.
    private func inboxQueues(_ connection: some AMQPTransport) async throws -> (own: [String], standby: [String]) {
        let inbox = BusAddresses.inbox(of: brokerUser)
        func countPartitions() async -> [String] {
            var found: [String] = []
            while await Self.exists("\(inbox).\(found.count)", on: connection) { found.append("\(inbox).\(found.count)") }
            return found
        }
        while true {
            var partitions = await countPartitions()
            // The core may be declaring them as we count: the same count twice, a second apart.
            while !partitions.isEmpty {
                try await Task.sleep(for: .seconds(1))
                let again = await countPartitions()
                if again == partitions { break }
                partitions = again
            }
            if !partitions.isEmpty {
                let (index, instances) = configuration.instance
                let own = partitions.enumerated().filter { $0.offset % instances == index }.map(\.element)
                return (own, partitions.filter { !own.contains($0) })
            }
            if await Self.exists(inbox, on: connection) { return ([inbox], []) }
            logger.warning("no inbox \(inbox) yet: is the core running? Trying again in 2 s")
            try await Task.sleep(for: .seconds(2))
        }
    }

    private static func exists(_ queue: String, on connection: some AMQPTransport) async -> Bool {
        (try? await connection.inspectQueue(queue)) != nil
    }

    /// FNV-1a: the same lane for the same dossier in every run (Swift's `hashValue` is seeded).
    static func stableHash(_ text: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(truncatingIfNeeded: hash)
    }

    /// Handles one delivery. A transient failure is tried again here, in its lane, with a growing
    /// pause, so that a dossier's later messages wait behind it (the portal hears its steps in
    /// order); after the configuration's `inboxRetries` tries (about 5 minutes by default) it goes
    /// to the dead letters, where an operator replays it once the external system is back.
    private func handle(_ delivery: AMQPDelivery, with handlers: MessageHandlers) async {
        let properties = delivery.properties
        let received = TraceHeaders(of: properties)
        let span = MessagingSpan.process(
            queue: BusAddresses.inbox(of: brokerUser), type: properties.type, messageID: properties.messageID,
            dossierID: properties.correlationID, headers: received)
        // What the handling sends and calls carries the span on (or, traces off, what came in).
        let trace = span?.traceHeaders ?? received
        let outcome = await ServiceContext.withValue(span?.context ?? trace?.context ?? .topLevel) {
            await handle(delivery, trace: trace, with: handlers)
        }
        if let span {
            span.attributes["govbus.outcome"] = outcome.rawValue
            if outcome == .deadLettered { span.setStatus(SpanStatus(code: .error, message: "dead-lettered")) }
            span.end()
        }
    }

    /// What became of an inbox message (`govbus_adapter_inbox_total`'s `outcome`).
    enum InboxOutcome: String, CaseIterable {
        case handled, retried, duplicate
        case deadLettered = "dead-lettered"
    }

    /// Handles one delivery in its trace; returns its outcome, as counted.
    private func handle(_ delivery: AMQPDelivery, trace: TraceHeaders?, with handlers: MessageHandlers) async -> InboxOutcome {
        let properties = delivery.properties
        let message = InboxMessage(
            type: properties.type ?? "", messageID: properties.messageID ?? "", correlationID: properties.correlationID ?? "",
            body: Data(delivery.body),
            previousDeliveries: Int(properties.headers?[BusHeader.deliveryCount]?.integerValue ?? 0),
            trace: trace)
        func count(_ outcome: InboxOutcome) -> InboxOutcome {
            Counter(
                label: "govbus_adapter_inbox_total", dimensions: [("type", message.type), ("outcome", outcome.rawValue)],
                factory: metrics
            ).increment()
            return outcome
        }
        if !message.messageID.isEmpty, (try? outbox.wasHandled(inboxMessage: message.messageID)) == true {
            delivery.ack()
            return count(.duplicate)
        }
        do {
            try check(message)
        } catch {
            logger.error("a message its schema refuses; dead-lettered", metadata: ["type": "\(message.type)", "reason": "\(error)"])
            delivery.reject(requeue: false)
            return count(.deadLettered)
        }
        for attempt in 1...max(1, configuration.inboxRetries) {
            do {
                try await handlers.handle(message)
            } catch let failure {
                let permanent: String? =
                    switch failure {
                    case AdapterFailure.permanent(let reason): reason
                    // What it would send, its schema refuses: trying again cannot help.
                    case let invalid as InvalidMessage: invalid.description
                    default: nil
                    }
                if let permanent {
                    // The inbox dead-letters what is rejected: it waits in govbus.dead-letters for an operator.
                    logger.error(
                        "cannot handle a message; dead-lettered", metadata: ["type": "\(message.type)", "reason": "\(permanent)"])
                    delivery.reject(requeue: false)
                    return count(.deadLettered)
                }
                let pause = Duration.milliseconds(min(30_000, 100 << min(attempt + message.previousDeliveries, 9)))
                logger.warning(
                    "cannot handle a message yet; trying again",
                    metadata: ["type": "\(message.type)", "error": "\(failure)", "attempt": "\(attempt)", "pause": "\(pause)"])
                _ = count(.retried)
                if Task.isCancelled {
                    // Stopping: the broker delivers it again to the next run.
                    delivery.nack(requeue: true)
                    return .retried
                }
                if attempt == configuration.inboxRetries { break }
                try? await Task.sleep(for: pause)
                continue
            }
            // Handled: a failure to note it only means a redelivery would be handled again.
            do {
                if !message.messageID.isEmpty { try await outbox.markHandled(inboxMessage: message.messageID) }
            } catch {
                logger.warning("cannot note a handled message", metadata: ["error": "\(error)"])
            }
            delivery.ack()
            return count(.handled)
        }
        logger.error(
            "cannot handle a message after \(configuration.inboxRetries) tries; dead-lettered",
            metadata: ["type": "\(message.type)", "correlation": "\(message.correlationID)"])
        delivery.reject(requeue: false)
        return count(.deadLettered)
    }

    /// With `schemas` configured, every inbox message is checked against its schema before a
    /// handler sees it: the core checks what adapters send it, not what it makes itself, and a
    /// connector must never act on what its contract does not allow.
    private func check(_ message: InboxMessage) throws {
        let reason: String?
        do {
            reason = try schemaRefusal(of: message.body, type: message.type)
        } catch {
            throw AdapterFailure.permanent("the body of a \(message.type) is not JSON: \(error)")
        }
        if let reason { throw AdapterFailure.permanent("not a valid \(message.type): \(reason)") }
    }

    /// Why the schema of `type` refuses `body` (its first error), or nil: nil too without
    /// `schemas` configured. Throws when `body` is not JSON.
    private func schemaRefusal(of body: Data, type: String) throws -> String? {
        guard let schema = catalog?.schema(for: type) else { return nil }
        return schema.validate(try JSONValue(parsing: body)).first.map { "\($0)" }
    }

    /// The connector's external system, called under the shared HTTP policy; the configuration's
    /// `httpTimeout` and `httpAttempts`, when set, win over the connector's own numbers.
    public func externalSystem(named name: String, policy: HTTPPolicy = HTTPPolicy()) -> ExternalSystem {
        var policy = policy
        if let timeout = configuration.httpTimeout { policy.timeout = timeout }
        if let attempts = configuration.httpAttempts { policy.attempts = attempts }
        return ExternalSystem(name: name, policy: policy, http: http, metrics: metrics)
    }

    // MARK: The outbox

    private func forwardOutbox(_ connection: some AMQPTransport) async {
        while !Task.isCancelled {
            do {
                // Read every turn: while the broker is away, the figure must show the outbox filling.
                outboxDepth.record(try outbox.count)
                let entries = try outbox.pending(limit: 128)
                guard let last = entries.last else {
                    await outbox.waitForEntries(timeout: .seconds(1))
                    continue
                }
                try await publish(entries, over: connection)
                try outbox.remove(through: last.sequence)
                for entry in entries {
                    Counter(label: "govbus_adapter_published_total", dimensions: [("type", entry.type)], factory: metrics)
                        .increment()
                }
            } catch {
                // Kept in the outbox: published again (same message ids) once the broker takes them.
                logger.warning("cannot forward the outbox yet", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One batch, confirmed, each message in a producer span that continues the trace it was
    /// stored in, and whose context it carries on.
    private func publish(_ entries: [Outbox.Entry], over connection: some AMQPTransport) async throws {
        let spans = entries.map { entry in
            MessagingSpan.send(
                exchange: BusAddresses.ingressExchange, type: entry.type, messageID: entry.messageID,
                dossierID: entry.correlationID, parent: entry.trace)
        }
        defer { for span in spans { span?.end() } }
        do {
            let messages = try zip(entries, spans).map { entry, span in
                AMQPOutgoingMessage(
                    try signed(entry, trace: span?.traceHeaders ?? entry.trace), exchange: BusAddresses.ingressExchange,
                    routingKey: entry.type, mandatory: true)
            }
            try await connection.startPublishing(messages).confirmed()
        } catch {
            for span in spans { span?.setStatus(SpanStatus(code: .error, message: "not confirmed: \(type(of: error))")) }
            throw error
        }
    }

    private func signed(_ entry: Outbox.Entry, trace: TraceHeaders? = nil) throws -> AMQPMessage {
        var headers: AMQPTable = [:]
        if let causation = entry.causationID { headers[BusHeader.causationID] = .string(causation) }
        if let trace {
            headers[BusHeader.traceparent] = .string(trace.parent)
            if let state = trace.state { headers[BusHeader.tracestate] = .string(state) }
        }
        return try signer.sign(
            AMQPMessage(
                body: Array(entry.body),
                properties: AMQPProperties(
                    contentType: "application/json", headers: headers, deliveryMode: .persistent,
                    correlationID: entry.correlationID, messageID: entry.messageID, timestamp: Date(), type: entry.type,
                    userID: brokerUser, appID: "govbus-\(configuration.name)")))
    }

    // MARK: Heartbeats

    private func sendHeartbeats(_ connection: some AMQPTransport) async {
        while !Task.isCancelled {
            brokerConnected.record(health.report.healthy ? 1 : 0)
            let heartbeat = AdapterHeartbeatV1(
                adapter: configuration.name, version: Self.version, instance: instance, startedAt: startedAt, sentAt: Date(),
                status: health.report.healthy ? .up : .degraded)
            do {
                let entry = Outbox.Entry(
                    sequence: 0, messageID: UUID().uuidString.lowercased(), type: AdapterHeartbeatV1.messageType,
                    correlationID: configuration.name, causationID: nil, body: try heartbeat.jsonBody())
                try await connection.publish(
                    try signed(entry), exchange: BusAddresses.ingressExchange, routingKey: AdapterHeartbeatV1.messageType,
                    mandatory: false)
            } catch {
                logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.heartbeatInterval)
        }
    }
}
