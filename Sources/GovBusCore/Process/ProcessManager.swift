public import Foundation
public import GovBusContracts
public import GovBusStore
import GovBusTelemetry
import Logging
import Synchronization

/// Drives every dossier through its procedure: starts a process for each submitted dossier, feeds
/// it the other systems' answers and the step timers, keeps its state and transitions in the
/// store (SQLite or PostgreSQL), and returns the messages to publish. A message handled again (after a crash, or a duplicate
/// that got this far) returns exactly the messages its transition sent the first time, with the
/// same ids; a late or repeated answer is recorded as a transition that changes nothing.
///
/// Cores that share a store may reach for the same dossier at once (a timer, an operator, a
/// partition taken over): a save that lost the race is done again from what won.
public final class ProcessManager: Sendable {
    private let store: DossierStore
    private let currentProcedures: Mutex<[String: ProcedureDefinition]>
    /// The procedures in force: a reload (`apply`) takes effect for the next message handled.
    public var procedures: [String: ProcedureDefinition] { currentProcedures.withLock { $0 } }
    /// Processes read or saved lately, with the version of their row: a dossier's next message
    /// (a reply is read twice: its check, then its transition) finds its process here instead of
    /// decoding the snapshot again. The version, read with the row each time, says whether the
    /// process is still the stored one: another core's save, or an operator's, changes it.
    private let recent = Mutex<[String: (version: Int64, process: DossierProcess)]>([:])
    /// Far more dossiers than are in flight at once; past it, the cache starts again.
    static let recentLimit = 8192

    public struct Handled: Sendable, Hashable {
        public let outputs: [OutgoingMessage]
        public let state: String
        public let ignoredBecause: String?
        /// Set by the transition that completed the dossier (not by a repeat of it).
        public var completion: Completion? = nil
        /// The dossier's own trace, when the message came in another (a gateway's callback starts
        /// one of its own): what it sends goes on in the dossier's, and its handling links to it.
        public var dossierTrace: String? = nil
    }

    /// How long a completed dossier took, against its procedure's legal deadline.
    public struct Completion: Sendable, Hashable {
        public let procedure: String
        public let duration: TimeInterval
        public let legalDeadline: Duration
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A message the process cannot act on, now or later (a procedure the file does not know, a
    /// dossier that does not exist): it goes to the dead letters, not to the retries.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// New procedures (a reloaded file). A dossier in flight goes on under its procedure's new
    /// definition from its next step; one whose procedure is gone waits, and its messages go to
    /// the retries, until it is back.
    public func apply(_ procedures: ProceduresFile) {
        currentProcedures.withLock { $0 = procedures.procedures }
        // The processes read lately hold the old definitions.
        recent.withLock { $0.removeAll() }
    }

    /// The types the process manager consumes.
    public static let handledTypes: Set<String> = [
        DossierSubmittedV1.messageType, IdentityVerifiedV1.messageType, IdentityRejectedV1.messageType,
        FeeLinkCreatedV1.messageType, FeePaidV1.messageType, FeePaidV2.messageType, FeeFailedV1.messageType,
        DocumentIssuedV1.messageType, DocumentIssueFailedV1.messageType,
    ]

    public convenience init(storePath: String, procedures: ProceduresFile) throws {
        try self.init(store: DossierStore(path: storePath), procedures: procedures)
    }

    public init(store: DossierStore, procedures: ProceduresFile) {
        self.store = store
        self.currentProcedures = Mutex(procedures.procedures)
    }

    /// Handles one accepted message of a handled type. A transition is keyed on its cause's sender
    /// and message id together: no sender can reuse another's id to replay its transition.
    ///
    /// `trace` is the `traceparent` of the message's handling: what the transition sends carries it.
    public func handle(
        type: String, body: Data, messageID: String, sender: String, trace: String? = nil, at now: Date = Date()
    ) throws -> Handled {
        let cause = "\(sender)/\(messageID)"
        return try Self.retryingConflicts {
            if let done = try store.transition(causedBy: cause) {
                return Handled(outputs: try Self.outputs(of: done), state: done.to, ignoredBecause: done.ignoredBecause)
            }
            if type == DossierSubmittedV1.messageType {
                let dossier = try DossierSubmittedV1(jsonBody: body)
                if try store.dossier(dossier.dossierId) != nil {
                    let (process, version) = try load(dossier.dossierId)
                    return try record(
                        process, version: version, from: nil, cause: cause, causationID: messageID, at: now,
                        ignoredBecause: "dossier \(dossier.dossierId) was submitted before", commands: [], trace: trace)
                }
                guard let procedure = procedures[dossier.procedure.code] else {
                    throw Refusal(description: "no procedure '\(dossier.procedure.code)' in the procedures file")
                }
                let (process, commands) = DossierProcess.start(dossier, procedure: procedure, at: now, traceparent: trace)
                return try record(
                    process, version: nil, from: "new", cause: cause, causationID: messageID, at: now, ignoredBecause: nil,
                    commands: commands, trace: trace)
            }
            let (dossierID, event) = try Self.event(type: type, body: body)
            var (process, version) = try load(dossierID)
            if case .feePaidAtCounter(let payment) = event { try Self.checkCounterPayment(payment, for: process) }
            let outcome = process.handle(event, at: now)
            // A message in a trace of its own (a gateway's callback) sends on in the dossier's.
            let dossierTrace = TraceHeaders(parent: process.traceparent, state: nil)
            let inAnotherTrace = dossierTrace.map { $0.traceID != TraceHeaders(parent: trace, state: nil)?.traceID } ?? false
            var handled = try record(
                process, version: version, from: outcome.from.name, cause: cause, causationID: messageID, at: now,
                ignoredBecause: outcome.ignoredBecause, commands: outcome.commands,
                trace: inAnotherTrace ? process.traceparent : trace)
            if inAnotherTrace { handled.dossierTrace = process.traceparent }
            return handled
        }
    }

    /// Cash taken at the counter that the dossier cannot take is refused, to the dead letters with
    /// why, not ignored: only a dossier awaiting its fee, its order, exactly the fee due, once.
    /// Checked here, against the dossier as saved, so that two payments in one batch cannot both pass.
    static func checkCounterPayment(_ payment: FeePaidV2, for process: DossierProcess) throws {
        let id = process.dossier.dossierId
        if process.counterPayment != nil { throw Refusal(description: "the fee of dossier \(id) was paid at the counter already") }
        guard process.state == .awaitingPayment else {
            throw Refusal(description: "dossier \(id) is \(process.state.name), not awaiting its fee")
        }
        guard payment.orderId == process.orderId else { throw Refusal(description: "orderId is not the dossier's order") }
        guard payment.amount == process.procedure.fee else {
            throw Refusal(description: "the amount is not the fee due (\(process.procedure.fee) VND)")
        }
    }

    /// Runs `body` again when its save lost a race with another core (at most a few times: each
    /// round reads what won, so that a second loss means a third writer).
    private static func retryingConflicts<T>(_ body: () throws -> T) throws -> T {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch StoreError.conflict(_) where attempt < 5 {
                attempt += 1
            }
        }
    }

    /// An operator's decision on a dossier: try its step again (from "needs attention"), or end
    /// it as rejected. `actionID` names the action (the cause of the transition it makes).
    public func operatorDecided(
        _ dossierID: String, retry: Bool, reason: String?, actionID: String, at now: Date = Date()
    ) throws -> Handled {
        try Self.retryingConflicts {
            var (process, version) = try load(dossierID)
            let span = MessagingSpan.internalWork(
                retry ? "operator retry" : "operator reject", dossierID: dossierID,
                parent: TraceHeaders(parent: process.traceparent, state: nil))
            defer { span?.end() }
            let event: DossierProcess.Event =
                retry
                ? .operatorRetried
                : .operatorRejected(Reason(code: "rejected-by-operator", message: reason ?? "rejected by an operator"))
            let outcome = process.handle(event, at: now)
            return try record(
                process, version: version, from: outcome.from.name, cause: actionID, causationID: actionID, at: now,
                ignoredBecause: outcome.ignoredBecause, commands: outcome.commands,
                trace: span?.traceHeaders?.parent ?? process.traceparent)
        }
    }

    /// Fires the step timers due by `now` that this core claims (no other core fires them while
    /// its claim lasts); returns what they sent. A timer that fails is claimed again once its
    /// claim runs out; a timer another core fired meanwhile is left to that core.
    public func fireDueTimers(at now: Date = Date()) throws -> [OutgoingMessage] {
        var outputs: [OutgoingMessage] = []
        var failure: (any Error)?
        for timer in try store.claimDueTimers(at: now) {
            guard let step = DossierStep(rawValue: timer.step) else { continue }
            // The timer's own id: firing it twice (a crash between) repeats the same transition. Its
            // due time is part of it: after an operator's retry, attempt 1 comes round again.
            let cause = OutgoingMessage.derivedID(
                timer.dossierID, "timer", timer.step, String(timer.attempt), String(timer.due.timeIntervalSince1970))
            do {
                if let done = try store.transition(causedBy: cause) {
                    // Fired before, and its outputs perhaps not confirmed: they go out again (same
                    // ids), and the timer, whose transition exists, is done.
                    try store.removeTimer(timer)
                    outputs += try Self.outputs(of: done)
                    continue
                }
                var (process, version) = try load(timer.dossierID)
                // The timer continues the dossier's trace.
                let span = MessagingSpan.internalWork(
                    "timer \(step.rawValue)", dossierID: timer.dossierID, parent: TraceHeaders(parent: process.traceparent, state: nil))
                defer { span?.end() }
                let outcome = process.handle(.stepTimedOut(step, attempt: timer.attempt), at: now)
                outputs += try record(
                    process, version: version, from: outcome.from.name, cause: cause, causationID: cause, at: now,
                    ignoredBecause: outcome.ignoredBecause,
                    commands: outcome.commands + (outcome.ignoredBecause != nil ? [.cancelTimeout] : []),
                    trace: span?.traceHeaders?.parent ?? process.traceparent
                ).outputs
            } catch StoreError.conflict(_) {
                // Another core moved the dossier since it was read: the timer, if still due, comes back.
            } catch {
                failure = failure ?? error
            }
        }
        if let failure, outputs.isEmpty { throw failure }
        return outputs
    }

    public func snapshot(of dossierID: String) throws -> DossierProcess.Snapshot? {
        try store.dossier(dossierID).map { try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: $0.snapshot) }
    }

    /// The dossier's transitions, in order, with the messages each sent.
    public func transitions(of dossierID: String) throws -> [(transition: DossierStore.Transition, outputs: [OutgoingMessage])] {
        try store.transitions(of: dossierID).map { ($0, try Self.outputs(of: $0)) }
    }

    static func outputs(of transition: DossierStore.Transition) throws -> [OutgoingMessage] {
        transition.outputs.isEmpty ? [] : try JSONDecoder().decode([OutgoingMessage].self, from: transition.outputs)
    }

    public func countsByState() throws -> [String: Int] {
        try store.countsByState()
    }

    /// What a reply about a dossier must agree with: the applicant, the order and the fee.
    public struct Expectations: Sendable, Hashable {
        public let personalID: String
        public let orderID: String
        public let fee: Int
        /// The payment the core recorded, if any: a refund is for this payment, never more.
        public let payment: FeePaidV1?
        /// The gateway payments that came after the fee was paid at the counter, refunded whole.
        public let latePayments: [FeePaidV1]

        /// The gateway payments a refund may be for.
        public var refundable: [FeePaidV1] { (payment.map { [$0] } ?? []) + latePayments }
    }

    public func expectations(of dossierID: String) throws -> Expectations? {
        guard let stored = try store.dossier(dossierID) else { return nil }
        let process = try process(from: stored)
        let snapshot = process.snapshot
        return Expectations(
            personalID: snapshot.dossier.applicant.personalId, orderID: process.orderId, fee: process.procedure.fee,
            payment: snapshot.payment, latePayments: snapshot.latePayments ?? [])
    }

    /// What content-based routing rules look at for the dossier's messages (nil: no such dossier).
    public func routingAttributes(of dossierID: String) throws -> [String: String]? {
        guard let snapshot = try snapshot(of: dossierID) else { return nil }
        return Self.routingAttributes(of: snapshot.dossier)
    }

    static func routingAttributes(of dossier: DossierSubmittedV1) -> [String: String] {
        [
            "procedureCode": dossier.procedure.code, "receivingAgency": dossier.receivingAgency.code,
            "communeCode": dossier.communeCode,
        ]
    }

    /// The dossier's process and the version it was read at.
    private func load(_ dossierID: String) throws -> (DossierProcess, version: Int64) {
        guard let stored = try store.dossier(dossierID) else {
            throw Refusal(description: "no dossier '\(dossierID)'")
        }
        return (try process(from: stored), stored.version)
    }

    /// The process of a stored row: from `recent` when it holds that version, else decoded.
    private func process(from stored: DossierStore.Dossier) throws -> DossierProcess {
        if let cached = recent.withLock({ $0[stored.dossierID] }), cached.version == stored.version {
            return cached.process
        }
        let snapshot = try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: stored.snapshot)
        guard let procedure = procedures[snapshot.procedureCode] else {
            throw Failure(
                description: "dossier '\(stored.dossierID)' has procedure '\(snapshot.procedureCode)', no longer configured")
        }
        let process = DossierProcess(snapshot: snapshot, procedure: procedure)
        remember(process, version: stored.version)
        return process
    }

    private func remember(_ process: DossierProcess, version: Int64) {
        recent.withLock { recent in
            if recent.count >= Self.recentLimit { recent.removeAll(keepingCapacity: true) }
            recent[process.dossier.dossierId] = (version, process)
        }
    }

    /// `cause` keys the transition (handling it again repeats it); `causationID` is the message id
    /// its messages answer.
    private func record(
        _ process: DossierProcess, version: Int64?, from: String?, cause: String, causationID: String, at now: Date,
        ignoredBecause: String?, commands: [DossierProcess.Command], trace: String?
    ) throws -> Handled {
        let dossierID = process.dossier.dossierId
        let timers = commands.compactMap { command -> DossierStore.TimerChange? in
            switch command {
            case .cancelTimeout: .cancel
            case .scheduleTimeout(let step, let attempt, let due): .schedule(step: step.rawValue, attempt: attempt, due: due)
            default: nil
            }
        }
        let change = DossierStore.Change(
            dossierID: dossierID, snapshot: try ContractCoding.encoder.encode(process.snapshot), state: process.state.name,
            legalDeadline: process.legalDeadline, version: version, from: from ?? process.state.name, cause: cause,
            ignoredBecause: ignoredBecause, timers: timers)
        var made: [OutgoingMessage] = []
        let transition = try store.save(change, at: now) { sequence in
            var outputs: [OutgoingMessage] = []
            for (index, command) in commands.enumerated() {
                guard let message = command.message else { continue }
                outputs.append(
                    OutgoingMessage(
                        type: type(of: message).messageType,
                        messageID: OutgoingMessage.derivedID(dossierID, String(sequence), String(index)),
                        correlationID: dossierID, causationID: causationID, body: try message.jsonBody(),
                        routingAttributes: Self.routingAttributes(of: process.dossier), traceparent: trace))
            }
            made = outputs
            return try JSONEncoder().encode(outputs)
        }
        // The row now holds this process: a new one at version 0, a saved one a version further.
        remember(process, version: version.map { $0 + 1 } ?? 0)
        // The messages as made, not decoded back from what was just encoded.
        let completed = transition.to == "completed" && transition.from != "completed"
        return Handled(
            outputs: made, state: transition.to, ignoredBecause: ignoredBecause,
            completion: completed
                ? Completion(
                    // The portal's clock says when it was submitted: never less than nothing.
                    procedure: process.procedure.code, duration: max(0, now.timeIntervalSince(process.dossier.submittedAt)),
                    legalDeadline: process.procedure.legalDeadline) : nil)
    }

    private static func event(type: String, body: Data) throws -> (String, DossierProcess.Event) {
        switch type {
        case IdentityVerifiedV1.messageType:
            let message = try IdentityVerifiedV1(jsonBody: body)
            return (message.dossierId, .identityVerified(message))
        case IdentityRejectedV1.messageType:
            let message = try IdentityRejectedV1(jsonBody: body)
            return (message.dossierId, .identityRejected(message))
        case FeeLinkCreatedV1.messageType:
            let message = try FeeLinkCreatedV1(jsonBody: body)
            return (message.dossierId, .feeLinkCreated(message))
        case FeePaidV1.messageType:
            let message = try FeePaidV1(jsonBody: body)
            return (message.dossierId, .feePaid(message))
        case FeePaidV2.messageType:
            let message = try FeePaidV2(jsonBody: body)
            if let gateway = message.gatewayPayment { return (message.dossierId, .feePaid(gateway)) }
            return (message.dossierId, .feePaidAtCounter(message))
        case FeeFailedV1.messageType:
            let message = try FeeFailedV1(jsonBody: body)
            return (message.dossierId, .feeFailed(message))
        case DocumentIssuedV1.messageType:
            let message = try DocumentIssuedV1(jsonBody: body)
            return (message.dossierId, .documentIssued(message))
        case DocumentIssueFailedV1.messageType:
            let message = try DocumentIssueFailedV1(jsonBody: body)
            return (message.dossierId, .documentIssueFailed(message))
        default:
            throw Failure(description: "the process manager does not handle \(type)")
        }
    }
}

extension ProcessManager {
    /// Sets the dossiers-per-state gauges now and then, until cancelled.
    func reportStates(to metrics: CoreMetrics, every interval: Duration = .seconds(5), logger: Logger) async {
        let states = ["awaiting-identity", "awaiting-payment", "awaiting-document", "completed", "rejected", "needs-attention"]
        while !Task.isCancelled {
            do {
                metrics.dossiers(byState: try countsByState(), states: states)
                metrics.overdue(try store.countOverdue(at: Date()))
            } catch {
                logger.warning("cannot count dossiers per state", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
