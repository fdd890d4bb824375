import AMQP
import Foundation
import GovBus
import GovBusContracts
import Hummingbird

/// A fee a citizen paid in cash at the one-stop counter: the officer who took it records it with
/// the receipt's number and the amount, and the console signs it (`payment.fee.paid.v2`, channel
/// `counter`, the officer's name in the signed body) and sends it to the core as the core's user.
///
/// The console refuses at once what the core would refuse (a dossier not awaiting its fee, an
/// amount that is not the fee asked), so the officer hears why; the core checks it again, since
/// two officers may record the same dossier at the same moment, and only the first moves it.
extension ConsoleAPI {
    struct CounterPaymentForm: Decodable {
        var receiptNumber: String
        var amount: Int
    }

    struct CounterPaymentRecorded: Encodable {
        var dossierId: String
        var messageId: String
        var receiptNumber: String
        var amount: Int
        var officer: String
    }

    /// Receipt numbers as the schema allows them.
    static let receiptNumberPattern = "^[A-Za-z0-9][A-Za-z0-9/._-]{0,39}$"

    func recordCounterPayment(_ id: String, _ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let session = context.session, session.role == .officer else {
            throw HTTPError(.forbidden, message: "only an officer records a fee paid at the counter")
        }
        guard let signer else {
            throw HTTPError(.conflict, message: "no signingKey in the console's configuration: a counter payment cannot be signed")
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let form = try? JSONDecoder().decode(CounterPaymentForm.self, from: Data(buffer: body)) else {
            throw HTTPError(.badRequest, message: "expected {\"receiptNumber\": text, \"amount\": VND}")
        }
        guard form.receiptNumber.range(of: Self.receiptNumberPattern, options: .regularExpression) != nil else {
            throw HTTPError(.badRequest, message: "a receipt number is 1 to 40 letters, digits, / . _ or -")
        }
        guard let dossier = try core.dossier(id) else { throw HTTPError(.notFound, message: "no dossier '\(id)'") }
        guard dossier.state == "awaiting-payment" else {
            throw HTTPError(.conflict, message: "dossier \(id) is \(dossier.state), not awaiting its fee")
        }
        guard let asked = try feeAsked(of: id) else {
            throw HTTPError(.conflict, message: "the core has not asked dossier \(id)'s fee yet")
        }
        guard form.amount == asked.amount else {
            throw HTTPError(.unprocessableContent, message: "the fee due is \(asked.amount) VND, not \(form.amount) VND")
        }
        let payment = FeePaidV2.counter(
            dossierId: id, orderId: asked.orderId, amount: form.amount, receiptNumber: form.receiptNumber,
            officer: session.name, paidAt: Date())
        let messageID = UUID().uuidString.lowercased()
        let message = try signer.sign(
            AMQPMessage(
                body: Array(try payment.jsonBody()),
                properties: AMQPProperties(
                    contentType: "application/json", deliveryMode: .persistent, correlationID: id, messageID: messageID,
                    timestamp: Date(), type: FeePaidV2.messageType, userID: coreUser, appID: "govbus-console")))
        try await replay(message, "core")
        let recorded = CounterPaymentRecorded(
            dossierId: id, messageId: messageID, receiptNumber: form.receiptNumber, amount: form.amount, officer: session.name)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try audit.append(
            kind: .operatorAction, messageID: UUID().uuidString.lowercased(), type: "operator.fee.paid-at-counter",
            sender: session.name, receivers: ["core"], correlationID: id, body: try encoder.encode(recorded), signature: "")
        logger.info(
            "fee paid at the counter",
            metadata: ["dossier": "\(id)", "officer": "\(session.name)", "receipt": "\(form.receiptNumber)"])
        return try json(recorded)
    }

    /// The last fee request the core sent about the dossier: its order and amount.
    private func feeAsked(of id: String) throws -> FeeRequestedV1? {
        try audit.records(correlationID: id).last { $0.type == FeeRequestedV1.messageType }?.body
            .flatMap { try? FeeRequestedV1(jsonBody: $0) }
    }
}
