public import AMQP
import Foundation
import GovBus
import Synchronization
public import Logging

/// The hub: takes each message of `govbus.core.ingress` through the ingress checks, drops
/// duplicates, records it in the audit log, publishes it to the adapters the routes file names,
/// and hands dossier messages to the process manager, whose messages it publishes in turn. The
/// input is acked only after its audit record, its state change and the confirmed publish of its
/// outputs; a message that fails a check goes to the dead letters (confirmed) with the check's name
/// and reason; a failure that may pass later goes through the delayed retry queues.
public final class CoreRouter: Sendable {
    public struct Counters: Sendable, Hashable {
        public var routed = 0
        public var duplicates = 0
        public var rejected: [IngressChecks.Check: Int] = [:]
    }

    private let checks: IngressChecks
    private let coreUser: String
    private let audit: AuditLog
    private let ledger: MessageLedger
    private let processManager: ProcessManager?
    private let connection: AMQPConnection
    private let logger: Logger
    private let counters = Mutex(Counters())

    public init(
        checks: IngressChecks, audit: AuditLog, ledgerPath: String, processManager: ProcessManager? = nil,
        connection: AMQPConnection, logger: Logger
    ) throws {
        self.checks = checks
        self.coreUser = connection.configuration.user
        self.audit = audit
        self.ledger = try MessageLedger(path: ledgerPath)
        self.processManager = processManager
        self.connection = connection
        self.logger = logger
    }

    public var counts: Counters { counters.withLock { $0 } }

    /// Consumes `govbus.core.ingress` until the consumer ends.
    public func run(prefetch: UInt16 = 64) async throws {
        let consumer = try await connection.consume(queue: CoreTopology.coreQueue, prefetch: prefetch)
        for try await delivery in consumer {
            do {
                try await handle(delivery)
            } catch {
                await retryLater(delivery, because: error)
            }
        }
    }

    /// A failure that may pass later (the store busy, a publish not confirmed): the message waits
    /// in the next retry queue, then comes back; after the last one it goes to the dead letters.
    private func retryLater(_ delivery: AMQPDelivery, because error: any Error) async {
        let message = AMQPMessage(body: delivery.body, properties: delivery.properties)
        let attempt = Int(message.properties.headers?["govbus-attempt"]?.integerValue ?? 1)
        do {
            if attempt <= CoreTopology.retryDelays.count {
                var retry = message.forwarded(byCore: coreUser)
                retry.properties.headers?["govbus-attempt"] = .int32(Int32(attempt + 1))
                let delay = CoreTopology.retryDelays[attempt - 1].label
                try await connection.publish(
                    retry, exchange: CoreTopology.retryExchange(delay), routingKey: CoreTopology.coreQueue)
                logger.warning("routing failed; retry in \(delay)", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
            } else {
                try await connection.publish(
                    message.forwarded(byCore: coreUser).deadLettered(
                        check: "delivery", reason: "\(error)", where: "core", at: Date()),
                    exchange: CoreTopology.deadExchange, routingKey: delivery.routingKey)
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

    func handle(_ delivery: AMQPDelivery) async throws {
        let message = AMQPMessage(body: delivery.body, properties: delivery.properties)
        let accepted: IngressChecks.Accepted
        do {
            accepted = try checks.check(message)
        } catch {
            try await connection.publish(
                message.forwarded(byCore: coreUser).deadLettered(
                    check: error.check.rawValue, reason: error.reason, where: "core", at: Date()),
                exchange: CoreTopology.deadExchange, routingKey: delivery.routingKey)
            counters.withLock { $0.rejected[error.check, default: 0] += 1 }
            logger.info(
                "message rejected",
                metadata: ["check": "\(error.check.rawValue)", "reason": "\(error.reason)", "type": "\(message.properties.type ?? "")"])
            delivery.ack()
            return
        }
        if try ledger.isHandled(accepted.messageID) {
            counters.withLock { $0.duplicates += 1 }
            delivery.ack()
            return
        }
        let receivers = checks.routes.receivers(of: accepted.type, attributes: Self.attributes(of: accepted.body))
        // A message delivered again after a crash is recorded once.
        if try !audit.contains(messageID: accepted.messageID) {
            try audit.append(
                messageID: accepted.messageID, type: accepted.type, sender: accepted.sender, receivers: receivers,
                correlationID: accepted.correlationID, body: Data(delivery.body), signature: accepted.signature)
        }
        let forwarded = message.forwarded(byCore: coreUser)
        for receiver in receivers {
            try await connection.publish(
                forwarded, exchange: CoreTopology.deliverExchange, routingKey: "\(receiver).\(accepted.type)",
                mandatory: true)
        }
        if let processManager, ProcessManager.handledTypes.contains(accepted.type) {
            let handled = try processManager.handle(
                type: accepted.type, body: Data(delivery.body), messageID: accepted.messageID)
            if let ignored = handled.ignoredBecause {
                logger.info("reply recorded, nothing changed", metadata: ["dossier": "\(accepted.correlationID)", "why": "\(ignored)"])
            }
            try await publish(handled.outputs)
        }
        try ledger.markHandled(accepted.messageID)
        counters.withLock { $0.routed += 1 }
        delivery.ack()
    }

    /// Publishes the process manager's messages to the adapters that receive them, confirmed.
    func publish(_ outputs: [OutgoingMessage]) async throws {
        for output in outputs {
            var attributes: [RoutesFile.Rule.Field: String] = [:]
            for (name, value) in output.routingAttributes {
                if let field = RoutesFile.Rule.Field(rawValue: name) { attributes[field] = value }
            }
            let receivers = checks.routes.receivers(of: output.type, attributes: attributes)
            guard !receivers.isEmpty else {
                logger.error("no adapter receives \(output.type)", metadata: ["dossier": "\(output.correlationID)"])
                continue
            }
            let message = AMQPMessage(
                body: Array(output.body),
                properties: AMQPProperties(
                    contentType: "application/json", headers: ["govbus-causation-id": .string(output.causationID)],
                    deliveryMode: .persistent, correlationID: output.correlationID, messageID: output.messageID,
                    timestamp: Date(), type: output.type, userID: coreUser, appID: "govbus-core"))
            for receiver in receivers {
                try await connection.publish(
                    message, exchange: CoreTopology.deliverExchange, routingKey: "\(receiver).\(output.type)",
                    mandatory: true)
            }
        }
    }

    /// Fires the step timers as they fall due, until cancelled.
    public func runTimers(every interval: Duration = .seconds(1)) async {
        guard let processManager else { return }
        while !Task.isCancelled {
            do {
                try await publish(try processManager.fireDueTimers())
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
