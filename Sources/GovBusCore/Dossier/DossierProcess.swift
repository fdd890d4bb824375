public import Foundation
public import GovBusContracts

/// One dossier's way through its procedure, as a plain value: events go in (answers of the other
/// systems, timeouts, operator actions), and the transition with the commands to carry out comes
/// out. It does no I/O, so every path is tested without a broker; the process manager stores it,
/// publishes the commands' messages and schedules the timeouts.
///
/// submitted → identity verified → fee paid (when the fee is not zero) → document issued →
/// completed. A rejection at any step ends it as rejected; a fee paid for a dossier that then
/// fails is refunded. A step not answered in time is asked again, up to the procedure's maximum,
/// then the dossier waits for an operator in "needs attention".
public struct DossierProcess: Sendable, Hashable {
    public enum State: Sendable, Hashable, Codable {
        case awaitingIdentity
        case awaitingPayment
        case awaitingDocument
        case completed
        case rejected(Reason)
        case needsAttention(DossierStep, Reason)

        public var isFinal: Bool {
            switch self {
            case .completed, .rejected: true
            default: false
            }
        }

        /// The state of waiting for `step`'s answer.
        public static func awaiting(_ step: DossierStep) -> State {
            switch step {
            case .identity: .awaitingIdentity
            case .fee: .awaitingPayment
            case .document: .awaitingDocument
            }
        }

        /// The step whose answer the dossier waits for.
        public var awaitedStep: DossierStep? {
            switch self {
            case .awaitingIdentity: .identity
            case .awaitingPayment: .fee
            case .awaitingDocument: .document
            default: nil
            }
        }

        public var name: String {
            switch self {
            case .awaitingIdentity: "awaiting-identity"
            case .awaitingPayment: "awaiting-payment"
            case .awaitingDocument: "awaiting-document"
            case .completed: "completed"
            case .rejected: "rejected"
            case .needsAttention: "needs-attention"
            }
        }
    }

    public enum Event: Sendable, Hashable {
        case identityVerified(IdentityVerifiedV1)
        case identityRejected(IdentityRejectedV1)
        case feeLinkCreated(FeeLinkCreatedV1)
        case feePaid(FeePaidV1)
        /// Cash taken by an officer at the counter, with a receipt.
        case feePaidAtCounter(FeePaidV2)
        case feeFailed(FeeFailedV1)
        case documentIssued(DocumentIssuedV1)
        case documentIssueFailed(DocumentIssueFailedV1)
        /// The timer of `step`, set for `attempt`, went off.
        case stepTimedOut(DossierStep, attempt: Int)
        /// An operator asks a dossier in "needs attention" to try its step again.
        case operatorRetried
        /// An operator ends the dossier as rejected.
        case operatorRejected(Reason)
    }

    public enum Command: Sendable, Hashable {
        /// Ask a system for a step. `attempt` counts from 1; a message published again after a
        /// crash keeps its id, a step asked again gets a new one (see `DossierMessageID`).
        case requestIdentity(IdentityVerificationRequestedV1, attempt: Int)
        case requestFee(FeeRequestedV1, attempt: Int)
        case requestDocument(DocumentIssueRequestedV1, attempt: Int)
        case requestRefund(FeeRefundRequestedV1)
        case notifyPortal(DossierStatusChangedV1)
        case scheduleTimeout(DossierStep, attempt: Int, at: Date)
        case cancelTimeout

        /// The message the command sends; nil for the timers.
        public var message: (any GovBusMessage)? {
            switch self {
            case .requestIdentity(let message, _): message
            case .requestFee(let message, _): message
            case .requestDocument(let message, _): message
            case .requestRefund(let message): message
            case .notifyPortal(let message): message
            case .scheduleTimeout, .cancelTimeout: nil
            }
        }
    }

    /// What handling one event did.
    public struct Outcome: Sendable, Hashable {
        public let from: State
        public let to: State
        public let commands: [Command]
        /// Why the event changed nothing (a late or repeated reply), to be recorded.
        public let ignoredBecause: String?
    }

    public let dossier: DossierSubmittedV1
    public let procedure: ProcedureDefinition
    public private(set) var state: State
    /// How many times the awaited step has been asked.
    public private(set) var attempt: Int
    public private(set) var payment: FeePaidV1?
    /// The fee paid in cash at the counter, when it was; a gateway payment after it is refunded.
    public private(set) var counterPayment: FeePaidV2?
    /// The gateway payments refunded because the counter was paid first.
    public private(set) var latePayments: [FeePaidV1] = []
    public private(set) var paymentLink: URL?
    /// The `traceparent` the dossier was submitted in: its step timers and operators' decisions
    /// continue that trace.
    public private(set) var traceparent: String?

    /// A new dossier: the commands that start it (the portal told, the registry asked).
    public static func start(
        _ dossier: DossierSubmittedV1, procedure: ProcedureDefinition, at now: Date, traceparent: String? = nil
    ) -> (DossierProcess, [Command]) {
        var process = DossierProcess(dossier: dossier, procedure: procedure, state: .awaiting(.identity), attempt: 1)
        process.traceparent = traceparent
        let commands = [process.status(.submitted, at: now)] + process.ask(.identity, at: now)
        return (process, commands)
    }

    init(dossier: DossierSubmittedV1, procedure: ProcedureDefinition, state: State, attempt: Int) {
        self.dossier = dossier
        self.procedure = procedure
        self.state = state
        self.attempt = attempt
    }

    /// What a store keeps of a process: all but the procedure, which comes from the procedures file.
    public struct Snapshot: Codable, Sendable, Hashable {
        public var dossier: DossierSubmittedV1
        public var procedureCode: String
        public var state: State
        public var attempt: Int
        public var payment: FeePaidV1?
        public var counterPayment: FeePaidV2?
        public var latePayments: [FeePaidV1]?
        public var paymentLink: URL?
        public var traceparent: String?
    }

    public var snapshot: Snapshot {
        Snapshot(
            dossier: dossier, procedureCode: procedure.code, state: state, attempt: attempt, payment: payment,
            counterPayment: counterPayment, latePayments: latePayments.isEmpty ? nil : latePayments,
            paymentLink: paymentLink, traceparent: traceparent)
    }

    public init(snapshot: Snapshot, procedure: ProcedureDefinition) {
        self.init(dossier: snapshot.dossier, procedure: procedure, state: snapshot.state, attempt: snapshot.attempt)
        payment = snapshot.payment
        counterPayment = snapshot.counterPayment
        latePayments = snapshot.latePayments ?? []
        paymentLink = snapshot.paymentLink
        traceparent = snapshot.traceparent
    }

    /// When the law says the dossier must be done.
    public var legalDeadline: Date {
        dossier.submittedAt.addingTimeInterval(procedure.legalDeadline.timeInterval)
    }

    public func isOverdue(at now: Date) -> Bool {
        !state.isFinal && now > legalDeadline
    }

    public mutating func handle(_ event: Event, at now: Date) -> Outcome {
        let from = state
        var commands: [Command] = []
        func ignore(_ why: String) -> Outcome {
            Outcome(from: from, to: from, commands: [], ignoredBecause: why)
        }

        switch (state, event) {
        case (.awaitingIdentity, .identityVerified):
            commands = [.cancelTimeout, status(.identityVerified, at: now)]
            if procedure.fee > 0, procedure.payeeAccount != nil {
                move(to: .awaitingPayment)
                commands += ask(.fee, at: now)
            } else {
                move(to: .awaitingDocument)
                commands += ask(.document, at: now)
            }
        case (.awaitingIdentity, .identityRejected(let rejected)):
            commands = reject(rejected.reason, at: now)
        case (.awaitingPayment, .feeLinkCreated(let link)):
            guard paymentLink == nil else { return ignore("a repeated payment link for order \(link.orderId)") }
            paymentLink = link.paymentUrl
            commands = [status(.feeRequested, at: now, paymentLink: link.paymentUrl)]
        case (.awaitingPayment, .feePaid(let paid)):
            guard paid.amount >= procedure.fee else {
                return ignore("payment of \(paid.amount) VND for order \(paid.orderId), short of \(procedure.fee)")
            }
            payment = paid
            move(to: .awaitingDocument)
            commands = [.cancelTimeout, status(.feePaid, at: now)] + ask(.document, at: now)
        case (.awaitingPayment, .feePaidAtCounter(let paid)):
            guard paid.amount == procedure.fee else {
                return ignore("a counter payment of \(paid.amount) VND, not the \(procedure.fee) VND due")
            }
            counterPayment = paid
            move(to: .awaitingDocument)
            commands = [.cancelTimeout, status(.feePaid, at: now)] + ask(.document, at: now)
        case (_, .feePaid(let paid)) where counterPayment != nil:
            // The citizen paid online too, after the counter: that payment goes back, once.
            guard !latePayments.contains(where: { $0.bankTransactionNumber == paid.bankTransactionNumber }) else {
                return ignore("payment \(paid.bankTransactionNumber) was refunded already")
            }
            latePayments.append(paid)
            let reason = Reason(
                code: "paid-at-counter",
                message: "the fee was paid at the counter (receipt \(counterPayment?.receiptNumber ?? "")) before this payment")
            commands = [.requestRefund(refund(of: paid, because: reason, at: now))]
        case (.awaitingPayment, .feeFailed(let failed)):
            commands = reject(failed.reason, at: now)
        case (.awaitingDocument, .documentIssued(let issued)):
            move(to: .completed)
            commands = [
                .cancelTimeout, status(.documentIssued, at: now, resultLink: issued.retrievalUrl),
                status(.completed, at: now, resultLink: issued.retrievalUrl),
            ]
        case (.awaitingDocument, .documentIssueFailed(let failed)):
            commands = reject(failed.reason, at: now)
        case (_, .stepTimedOut(let step, let timedOutAttempt)):
            guard state.awaitedStep == step, timedOutAttempt == attempt else {
                return ignore("a timer of the \(step.rawValue) step that no longer counts")
            }
            if attempt < procedure.maximumAttempts {
                attempt += 1
                commands = ask(step, at: now)
            } else {
                let reason = Reason(
                    code: "step-timed-out",
                    message: "no answer to the \(step.rawValue) step after \(attempt) attempts")
                move(to: .needsAttention(step, reason))
                // No timer while an operator decides: a due timer left behind would be looked at forever.
                commands = [.cancelTimeout, status(.needsAttention, at: now, reason: reason)]
            }
        case (.needsAttention(let step, _), .operatorRetried):
            attempt = 1
            state = .awaiting(step)
            commands = ask(step, at: now)
        case (let current, .operatorRejected(let reason)) where !current.isFinal:
            commands = reject(reason, at: now)
        default:
            return ignore("\(Self.describe(event)) while the dossier is \(state.name)")
        }
        return Outcome(from: from, to: state, commands: commands, ignoredBecause: nil)
    }

    private mutating func move(to next: State) {
        state = next
        attempt = 1
    }

    /// Ends the dossier as rejected, and pays back a fee already paid.
    private mutating func reject(_ reason: Reason, at now: Date) -> [Command] {
        move(to: .rejected(reason))
        var commands: [Command] = [.cancelTimeout, status(.rejected, at: now, reason: reason)]
        // Cash paid at the counter is given back at the counter; the gateway refunds what it took.
        if let payment {
            commands.append(.requestRefund(refund(of: payment, because: reason, at: now)))
            commands.append(status(.refunded, at: now, reason: reason))
        }
        return commands
    }

    private func refund(of payment: FeePaidV1, because reason: Reason, at now: Date) -> FeeRefundRequestedV1 {
        FeeRefundRequestedV1(
            dossierId: dossier.dossierId, orderId: payment.orderId, amount: payment.amount,
            bankTransactionNumber: payment.bankTransactionNumber, paidAt: payment.paidAt, reason: reason, requestedAt: now)
    }

    /// The request of a step, and its timer.
    private func ask(_ step: DossierStep, at now: Date) -> [Command] {
        let request: Command
        switch step {
        case .identity:
            request = .requestIdentity(
                IdentityVerificationRequestedV1(
                    dossierId: dossier.dossierId, personalId: dossier.applicant.personalId,
                    fullName: dossier.applicant.fullName, dateOfBirth: dossier.applicant.dateOfBirth, requestedAt: now),
                attempt: attempt)
        case .fee:
            request = .requestFee(
                FeeRequestedV1(
                    dossierId: dossier.dossierId, orderId: orderId, amount: procedure.fee, feeItems: procedure.feeItems,
                    payeeAccount: procedure.payeeAccount!, requestedAt: now),
                attempt: attempt)
        case .document:
            let template = procedure.document
            request = .requestDocument(
                DocumentIssueRequestedV1(
                    dossierId: dossier.dossierId, documentType: template.type, issuingOrganCode: template.issuingOrganCode,
                    recipientOrganCode: dossier.receivingAgency.code, subject: template.subject, signer: template.signer,
                    requestedAt: now),
                attempt: attempt)
        }
        let due = now.addingTimeInterval(procedure.timeout(of: step).timeInterval)
        return [request, .scheduleTimeout(step, attempt: attempt, at: due)]
    }

    /// One order per dossier: asking the fee again must not make a second one.
    public var orderId: String { "\(dossier.dossierId)-FEE" }

    private func status(
        _ status: DossierStatusChangedV1.Status, at now: Date, reason: Reason? = nil, paymentLink: URL? = nil,
        resultLink: URL? = nil
    ) -> Command {
        .notifyPortal(
            DossierStatusChangedV1(
                dossierId: dossier.dossierId, status: status, reason: reason, at: now, paymentLink: paymentLink,
                resultLink: resultLink))
    }

    private static func describe(_ event: Event) -> String {
        switch event {
        case .identityVerified: "an identity verification"
        case .identityRejected: "an identity rejection"
        case .feeLinkCreated: "a payment link"
        case .feePaid: "a payment"
        case .feePaidAtCounter: "a counter payment"
        case .feeFailed: "a failed payment"
        case .documentIssued: "an issued document"
        case .documentIssueFailed: "a failed document issue"
        case .stepTimedOut(let step, _): "a timeout of the \(step.rawValue) step"
        case .operatorRetried: "an operator's retry"
        case .operatorRejected: "an operator's rejection"
        }
    }
}

extension Duration {
    /// In seconds, for `Date` arithmetic.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
