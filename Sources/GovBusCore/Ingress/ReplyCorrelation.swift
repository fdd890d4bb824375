import GovBus
import GovBusStore
import GovBusContracts

/// A reply moves a dossier only if it answers a request: the core sent it (its audit record, with
/// the receivers the routes file named), to this reply's sender, about this dossier, and the reply
/// agrees with the dossier on the applicant, the order and the amount. Anything else is refused
/// with check `correlation`, so that an adapter cannot verify, pay or complete a dossier nobody
/// asked it about, nor one a routing rule sent to another adapter.
struct ReplyCorrelation: Sendable {
    /// Each reply type, and the type of the request it answers.
    static let requestTypes: [String: String] = [
        IdentityVerifiedV1.messageType: IdentityVerificationRequestedV1.messageType,
        IdentityRejectedV1.messageType: IdentityVerificationRequestedV1.messageType,
        FeeLinkCreatedV1.messageType: FeeRequestedV1.messageType,
        FeePaidV1.messageType: FeeRequestedV1.messageType,
        FeePaidV2.messageType: FeeRequestedV1.messageType,
        FeeFailedV1.messageType: FeeRequestedV1.messageType,
        DocumentIssuedV1.messageType: DocumentIssueRequestedV1.messageType,
        DocumentIssueFailedV1.messageType: DocumentIssueRequestedV1.messageType,
    ]

    let coreUser: String
    let audit: AuditLog
    let processManager: ProcessManager

    /// Throws the rejection when `message`, a reply, answers no request of the core's; other
    /// messages pass.
    func check(_ message: IngressChecks.Accepted) throws -> IngressChecks.Rejection? {
        guard let requestType = Self.requestTypes[message.type] else { return nil }
        func refuse(_ reason: String) -> IngressChecks.Rejection {
            IngressChecks.Rejection(check: .correlation, reason: reason)
        }
        let fromConsole = message.sender == IngressChecks.operatorsAsOwner
        if case .object(let body) = message.body, body["channel"] == .string(FeePaidV2.Channel.counter.rawValue) {
            // Who may say so; whether the dossier takes it is the process manager's to say, in
            // order with the dossier's other messages (`ProcessManager.checkCounterPayment`).
            guard fromConsole else { return refuse("a payment at the counter is recorded by an officer in the console, not by \(message.sender)") }
            return nil
        }
        if fromConsole { return refuse("the console records payments at the counter only") }
        guard let causationID = message.causationID else {
            return refuse("a reply must name the request it answers in govbus-causation-id")
        }
        guard let request = try audit.record(messageID: causationID, sentBy: coreUser), request.type == requestType else {
            return refuse("govbus-causation-id names no \(requestType) the core sent")
        }
        guard request.receivers.contains(message.sender) else {
            return refuse("the request \(causationID) was sent to \(request.receivers.joined(separator: ", ")), not to \(message.sender)")
        }
        guard request.correlationID == message.correlationID else {
            return refuse("the request \(causationID) is about another dossier")
        }
        guard let expected = try processManager.expectations(of: message.correlationID) else {
            return refuse("no dossier '\(message.correlationID)'")
        }
        guard case .object(let body) = message.body else { return refuse("the body is not an object") }
        if case .string(let personalID)? = body["personalId"], personalID != expected.personalID {
            return refuse("personalId is not the applicant's")
        }
        if case .string(let orderID)? = body["orderId"], orderID != expected.orderID {
            return refuse("orderId is not the dossier's order")
        }
        if let amount = body["amount"], amount != .number(Double(expected.fee)) {
            return refuse("amount is not the fee the core asked for (\(expected.fee) VND)")
        }
        return nil
    }

    /// A replayed dead letter goes back only to an adapter that receives its type for its dossier,
    /// and a refund only ever for the payment the core recorded, never for more.
    func checkReplay(_ message: IngressChecks.Accepted, to target: String, checks: IngressChecks) throws -> IngressChecks.Rejection? {
        func refuse(_ reason: String) -> IngressChecks.Rejection {
            IngressChecks.Rejection(check: .correlation, reason: reason)
        }
        var attributes = CoreRouter.attributes(of: message.body)
        if let dossier = try processManager.routingAttributes(of: message.correlationID) {
            for (name, value) in dossier {
                if let field = RoutesFile.Rule.Field(rawValue: name) { attributes[field] = value }
            }
        }
        guard checks.receivers(of: message.type, attributes: attributes).contains(target) else {
            return refuse("\(target) does not receive \(message.type) for dossier \(message.correlationID)")
        }
        guard message.type == FeeRefundRequestedV1.messageType else { return nil }
        let refundable = try processManager.expectations(of: message.correlationID)?.refundable ?? []
        guard let first = refundable.first else {
            return refuse("the core recorded no payment for dossier \(message.correlationID): nothing to refund")
        }
        guard case .object(let body) = message.body, case .string(let orderID)? = body["orderId"],
            case .number(let amount)? = body["amount"], case .string(let transaction)? = body["bankTransactionNumber"]
        else { return refuse("a refund names an order, an amount and a bank transaction") }
        guard let payment = refundable.first(where: { $0.orderId == orderID && $0.bankTransactionNumber == transaction }) else {
            return refuse("a refund is for a payment the core recorded (order \(first.orderId))")
        }
        guard amount > 0, amount <= Double(payment.amount) else {
            return refuse("a refund of \(amount) VND is more than the \(payment.amount) VND paid")
        }
        return nil
    }
}
