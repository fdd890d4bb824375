public import Foundation
public import GovBusContracts
import Logging

/// Drives every dossier through its procedure: starts a process for each submitted dossier, feeds
/// it the other systems' answers and the step timers, keeps its state and transitions in SQLite,
/// and returns the messages to publish. A message handled again (after a crash, or a duplicate
/// that got this far) returns exactly the messages its transition sent the first time, with the
/// same ids; a late or repeated answer is recorded as a transition that changes nothing.
public final class ProcessManager: Sendable {
    private let store: DossierStore
    private let procedures: [String: ProcedureDefinition]

    public struct Handled: Sendable, Hashable {
        public let outputs: [OutgoingMessage]
        public let state: String
        public let ignoredBecause: String?
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// A message the process cannot act on, now or later (a procedure the file does not know, a
    /// dossier that does not exist): it goes to the dead letters, not to the retries.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The types the process manager consumes.
    public static let handledTypes: Set<String> = [
        DossierSubmittedV1.messageType, IdentityVerifiedV1.messageType, IdentityRejectedV1.messageType,
        FeeLinkCreatedV1.messageType, FeePaidV1.messageType, FeeFailedV1.messageType, DocumentIssuedV1.messageType,
        DocumentIssueFailedV1.messageType,
    ]

    public init(storePath: String, procedures: ProceduresFile) throws {
        store = try DossierStore(path: storePath)
        self.procedures = procedures.procedures
    }

    /// Handles one accepted message of a handled type. A transition is keyed on its cause's sender
    /// and message id together: no sender can reuse another's id to replay its transition.
    public func handle(type: String, body: Data, messageID: String, sender: String, at now: Date = Date()) throws -> Handled {
        let cause = "\(sender)/\(messageID)"
        if let done = try store.transition(causedBy: cause) {
            return Handled(outputs: done.outputs, state: done.to, ignoredBecause: done.ignoredBecause)
        }
        if type == DossierSubmittedV1.messageType {
            let dossier = try DossierSubmittedV1(jsonBody: body)
            if try store.snapshot(of: dossier.dossierId) != nil {
                return try record(
                    try load(dossier.dossierId), from: nil, cause: cause, causationID: messageID, at: now,
                    ignoredBecause: "dossier \(dossier.dossierId) was submitted before", commands: [])
            }
            guard let procedure = procedures[dossier.procedure.code] else {
                throw Refusal(description: "no procedure '\(dossier.procedure.code)' in the procedures file")
            }
            let (process, commands) = DossierProcess.start(dossier, procedure: procedure, at: now)
            return try record(
                process, from: "new", cause: cause, causationID: messageID, at: now, ignoredBecause: nil, commands: commands)
        }
        let (dossierID, event) = try Self.event(type: type, body: body)
        var process = try load(dossierID)
        let outcome = process.handle(event, at: now)
        return try record(
            process, from: outcome.from.name, cause: cause, causationID: messageID, at: now,
            ignoredBecause: outcome.ignoredBecause, commands: outcome.commands)
    }

    /// An operator's decision on a dossier: try its step again (from "needs attention"), or end
    /// it as rejected. `actionID` names the action (the cause of the transition it makes).
    public func operatorDecided(
        _ dossierID: String, retry: Bool, reason: String?, actionID: String, at now: Date = Date()
    ) throws -> Handled {
        var process = try load(dossierID)
        let event: DossierProcess.Event =
            retry
            ? .operatorRetried
            : .operatorRejected(Reason(code: "rejected-by-operator", message: reason ?? "rejected by an operator"))
        let outcome = process.handle(event, at: now)
        return try record(
            process, from: outcome.from.name, cause: actionID, causationID: actionID, at: now,
            ignoredBecause: outcome.ignoredBecause, commands: outcome.commands)
    }

    /// Fires the step timers due by `now`; returns what they sent.
    public func fireDueTimers(at now: Date = Date()) throws -> [OutgoingMessage] {
        var outputs: [OutgoingMessage] = []
        for timer in try store.dueTimers(at: now) {
            // The timer's own id: firing it twice (a crash between) repeats the same transition. Its
            // due time is part of it: after an operator's retry, attempt 1 comes round again.
            let cause = OutgoingMessage.derivedID(
                timer.dossierID, "timer", timer.step.rawValue, String(timer.attempt), String(timer.due.timeIntervalSince1970))
            if let done = try store.transition(causedBy: cause) {
                // Fired before, and its outputs perhaps not confirmed: they go out again (same ids),
                // and the timer, whose transition exists, is done.
                try store.removeTimer(timer)
                outputs += done.outputs
                continue
            }
            var process = try load(timer.dossierID)
            let outcome = process.handle(.stepTimedOut(timer.step, attempt: timer.attempt), at: now)
            outputs += try record(
                process, from: outcome.from.name, cause: cause, causationID: cause, at: now,
                ignoredBecause: outcome.ignoredBecause,
                commands: outcome.commands + (outcome.ignoredBecause != nil ? [.cancelTimeout] : [])
            ).outputs
        }
        return outputs
    }

    public func snapshot(of dossierID: String) throws -> DossierProcess.Snapshot? {
        try store.snapshot(of: dossierID)
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
    }

    public func expectations(of dossierID: String) throws -> Expectations? {
        guard let snapshot = try store.snapshot(of: dossierID) else { return nil }
        let process = try load(dossierID)
        return Expectations(
            personalID: snapshot.dossier.applicant.personalId, orderID: process.orderId, fee: process.procedure.fee,
            payment: snapshot.payment)
    }

    /// What content-based routing rules look at for the dossier's messages (nil: no such dossier).
    public func routingAttributes(of dossierID: String) throws -> [String: String]? {
        guard let snapshot = try store.snapshot(of: dossierID) else { return nil }
        return Self.routingAttributes(of: snapshot.dossier)
    }

    static func routingAttributes(of dossier: DossierSubmittedV1) -> [String: String] {
        [
            "procedureCode": dossier.procedure.code, "receivingAgency": dossier.receivingAgency.code,
            "communeCode": dossier.communeCode,
        ]
    }

    private func load(_ dossierID: String) throws -> DossierProcess {
        guard let snapshot = try store.snapshot(of: dossierID) else {
            throw Refusal(description: "no dossier '\(dossierID)'")
        }
        guard let procedure = procedures[snapshot.procedureCode] else {
            throw Failure(description: "dossier '\(dossierID)' has procedure '\(snapshot.procedureCode)', no longer configured")
        }
        return DossierProcess(snapshot: snapshot, procedure: procedure)
    }

    /// `cause` keys the transition (handling it again repeats it); `causationID` is the message id
    /// its messages answer.
    private func record(
        _ process: DossierProcess, from: String?, cause: String, causationID: String, at now: Date,
        ignoredBecause: String?, commands: [DossierProcess.Command]
    ) throws -> Handled {
        let dossierID = process.dossier.dossierId
        let transition = try store.save(
            process, from: from ?? process.state.name, causedBy: cause, at: now, ignoredBecause: ignoredBecause,
            timers: commands
        ) { sequence in
            var outputs: [OutgoingMessage] = []
            for (index, command) in commands.enumerated() {
                guard let message = command.message else { continue }
                outputs.append(
                    OutgoingMessage(
                        type: type(of: message).messageType,
                        messageID: OutgoingMessage.derivedID(dossierID, String(sequence), String(index)),
                        correlationID: dossierID, causationID: causationID, body: try message.jsonBody(),
                        routingAttributes: Self.routingAttributes(of: process.dossier)))
            }
            return outputs
        }
        return Handled(outputs: transition.outputs, state: transition.to, ignoredBecause: ignoredBecause)
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
            } catch {
                logger.warning("cannot count dossiers per state", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
