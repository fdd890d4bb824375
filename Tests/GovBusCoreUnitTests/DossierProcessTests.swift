import Foundation
import GovBus
import GovBusContracts
import CoreTestFixtures
import Testing

@testable import GovBusCore

@Suite("Dossier process, without a broker")
struct DossierProcessTests {
    static let now = CoreFixtures.now
    static let dossier = CoreFixtures.dossier

    static func procedure(fee: Int) -> ProcedureDefinition {
        ProcedureDefinition(
            code: "2.000720", name: "Đăng ký thành lập hộ kinh doanh",
            feeItems: fee > 0 ? [FeeItem(code: "LP-DKHKD", name: "Lệ phí đăng ký hộ kinh doanh", amount: fee)] : [],
            payeeAccount: BankAccount(bankCode: "VCB", accountNumber: "0011001234567", accountName: "UBND PHUONG BA DINH"),
            document: .init(
                type: .certificate, issuingOrganCode: "000.00.04.H01", subject: "Giấy chứng nhận đăng ký hộ kinh doanh",
                signer: Signer(name: "Lê Văn Hùng", position: "Chủ tịch")),
            legalDeadline: .seconds(3 * 24 * 3600), stepTimeouts: [.identity: .seconds(60), .fee: .seconds(3600), .document: .seconds(600)],
            maximumAttempts: 3)
    }

    let verified = IdentityVerifiedV1(
        dossierId: dossier.dossierId, personalId: "001188012345", eIdLevel: 2, verifiedAt: now)
    let link = FeeLinkCreatedV1(
        dossierId: dossier.dossierId, orderId: "H01.04-251121-0007-FEE", amount: 50000,
        paymentUrl: URL(string: "https://pay.example.vn/o/1")!, expiresAt: now.addingTimeInterval(900))
    let paid = FeePaidV1(
        dossierId: dossier.dossierId, orderId: "H01.04-251121-0007-FEE", amount: 50000, bankCode: "NCB",
        bankTransactionNumber: "14213456", paidAt: now.addingTimeInterval(120))
    let issued = DocumentIssuedV1(
        dossierId: dossier.dossierId, documentType: .certificate, codeNumber: "125", codeNotation: "GCN-UBND",
        issuingOrganCode: "000.00.04.H01", signer: Signer(name: "Lê Văn Hùng", position: "Chủ tịch"),
        promulgationDate: CivilDate(year: 2025, month: 11, day: 21), sha256: String(repeating: "a", count: 64),
        retrievalUrl: URL(string: "https://docs.example.vn/d/125")!, signature: "c2ln", issuedAt: now)

    func statuses(_ commands: [DossierProcess.Command]) -> [DossierStatusChangedV1.Status] {
        commands.compactMap { if case .notifyPortal(let message) = $0 { message.status } else { nil } }
    }

    @Test("With a fee: submitted, identity, payment, document, completed; the portal hears each step")
    func happyPathWithFee() {
        var (process, commands) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        #expect(statuses(commands) == [.submitted])
        #expect(commands.contains { if case .requestIdentity(_, attempt: 1) = $0 { true } else { false } })
        #expect(commands.contains(.scheduleTimeout(.identity, attempt: 1, at: CoreFixtures.now.addingTimeInterval(60))))

        var outcome = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        #expect(outcome.to == .awaitingPayment)
        #expect(statuses(outcome.commands) == [.identityVerified])
        guard case .requestFee(let request, attempt: 1)? = outcome.commands.first(where: {
            if case .requestFee = $0 { true } else { false }
        }) else {
            Issue.record("no fee request: \(outcome.commands)")
            return
        }
        #expect(request.amount == 50000)
        #expect(request.orderId == "H01.04-251121-0007-FEE")

        outcome = process.handle(.feeLinkCreated(link), at: CoreFixtures.now)
        #expect(statuses(outcome.commands) == [.feeRequested])
        outcome = process.handle(.feePaid(paid), at: CoreFixtures.now)
        #expect(outcome.to == .awaitingDocument)
        #expect(statuses(outcome.commands) == [.feePaid])
        outcome = process.handle(.documentIssued(issued), at: CoreFixtures.now)
        #expect(outcome.to == .completed)
        #expect(statuses(outcome.commands) == [.documentIssued, .completed])
        #expect(outcome.commands.contains(.cancelTimeout))
    }

    @Test("Without a fee the payment step is skipped")
    func free() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 0), at: CoreFixtures.now)
        let outcome = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        #expect(outcome.to == .awaitingDocument)
        #expect(outcome.commands.contains { if case .requestDocument = $0 { true } else { false } })
    }

    @Test("A rejected identity ends the dossier as rejected, with the reason for the portal")
    func identityRejected() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        let reason = Reason(code: "mismatch", message: "date of birth differs")
        let outcome = process.handle(
            .identityRejected(
                IdentityRejectedV1(
                    dossierId: CoreFixtures.dossier.dossierId, personalId: "001188012345", result: .mismatch,
                    mismatchedFields: [.dateOfBirth], rejectedAt: CoreFixtures.now, reason: reason)), at: CoreFixtures.now)
        #expect(outcome.to == .rejected(reason))
        #expect(statuses(outcome.commands) == [.rejected])
        #expect(!outcome.commands.contains { if case .requestRefund = $0 { true } else { false } })
    }

    @Test("A fee paid for a dossier that then fails is refunded")
    func refund() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        _ = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        _ = process.handle(.feePaid(paid), at: CoreFixtures.now)
        let reason = Reason(code: "signer-absent", message: "the signer is absent")
        let outcome = process.handle(
            .documentIssueFailed(DocumentIssueFailedV1(dossierId: CoreFixtures.dossier.dossierId, reason: reason, failedAt: CoreFixtures.now)),
            at: CoreFixtures.now)
        #expect(outcome.to == .rejected(reason))
        #expect(statuses(outcome.commands) == [.rejected, .refunded])
        let refund = outcome.commands.compactMap { if case .requestRefund(let r) = $0 { r } else { nil } }.first
        #expect(refund?.amount == 50000)
        #expect(refund?.bankTransactionNumber == "14213456")
        #expect(refund?.paidAt == paid.paidAt)
    }

    @Test("A step not answered is asked again up to the maximum, then needs an operator; stale timers count for nothing")
    func timeouts() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        var outcome = process.handle(.stepTimedOut(.identity, attempt: 1), at: CoreFixtures.now)
        #expect(outcome.commands.contains { if case .requestIdentity(_, attempt: 2) = $0 { true } else { false } })
        // The timer of attempt 1 again, or of another step: ignored.
        #expect(process.handle(.stepTimedOut(.identity, attempt: 1), at: CoreFixtures.now).ignoredBecause != nil)
        #expect(process.handle(.stepTimedOut(.document, attempt: 2), at: CoreFixtures.now).ignoredBecause != nil)
        _ = process.handle(.stepTimedOut(.identity, attempt: 2), at: CoreFixtures.now)
        outcome = process.handle(.stepTimedOut(.identity, attempt: 3), at: CoreFixtures.now)
        guard case .needsAttention(.identity, let reason) = outcome.to else {
            Issue.record("expected needs attention, got \(outcome.to)")
            return
        }
        #expect(reason.message.contains("3 attempts"))
        #expect(statuses(outcome.commands) == [.needsAttention])

        // An operator asks again: the step starts over.
        outcome = process.handle(.operatorRetried, at: CoreFixtures.now)
        #expect(outcome.to == .awaitingIdentity)
        #expect(outcome.commands.contains { if case .requestIdentity(_, attempt: 1) = $0 { true } else { false } })
        // Or ends it.
        let rejected = process.handle(.operatorRejected(Reason(code: "withdrawn", message: "withdrawn")), at: CoreFixtures.now)
        #expect(rejected.to.isFinal)
    }

    @Test("A fee paid at the counter: exactly the fee, once; a gateway payment after it is refunded, once")
    func paidAtCounter() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        func counter(_ amount: Int, receipt: String = "BL-0001") -> DossierProcess.Event {
            .feePaidAtCounter(
                .counter(
                    dossierId: paid.dossierId, orderId: paid.orderId, amount: amount, receiptNumber: receipt, officer: "Hoa",
                    paidAt: CoreFixtures.now))
        }
        #expect(process.handle(counter(50000), at: CoreFixtures.now).ignoredBecause?.contains("awaiting-identity") == true)
        _ = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        let wrong = process.handle(counter(40000), at: CoreFixtures.now)
        #expect(wrong.ignoredBecause == "a counter payment of 40000 VND, not the 50000 VND due")
        #expect(wrong.to == .awaitingPayment)

        let taken = process.handle(counter(50000), at: CoreFixtures.now)
        #expect(taken.to == .awaitingDocument)
        #expect(statuses(taken.commands) == [.feePaid])
        #expect(taken.commands.contains { if case .requestDocument = $0 { true } else { false } })
        #expect(process.counterPayment?.receiptNumber == "BL-0001")
        #expect(process.handle(counter(50000, receipt: "BL-0002"), at: CoreFixtures.now).ignoredBecause != nil)

        // The citizen paid online as well: that payment goes back, and only once.
        let late = process.handle(.feePaid(paid), at: CoreFixtures.now)
        #expect(late.to == .awaitingDocument)
        let refund = late.commands.compactMap { if case .requestRefund(let r) = $0 { r } else { nil } }
        #expect(refund.map(\.bankTransactionNumber) == ["14213456"])
        #expect(refund.first?.reason.code == "paid-at-counter")
        #expect(statuses(late.commands).isEmpty)
        #expect(process.handle(.feePaid(paid), at: CoreFixtures.now).ignoredBecause?.contains("refunded already") == true)

        // A rejection later gives nothing back through the gateway: the cash is repaid at the counter.
        let failed = process.handle(
            .documentIssueFailed(
                DocumentIssueFailedV1(dossierId: paid.dossierId, reason: Reason(code: "x", message: "y"), failedAt: CoreFixtures.now)),
            at: CoreFixtures.now)
        #expect(!failed.commands.contains { if case .requestRefund = $0 { true } else { false } })

        // All of it survives the store.
        let restored = DossierProcess(snapshot: process.snapshot, procedure: Self.procedure(fee: 50000))
        #expect(restored == process)
    }

    @Test("Late and repeated replies are recorded as ignored and change nothing")
    func lateReplies() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        _ = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        let repeated = process.handle(.identityVerified(verified), at: CoreFixtures.now)
        #expect(repeated.ignoredBecause?.contains("identity verification") == true)
        #expect(repeated.commands.isEmpty)
        _ = process.handle(.feeLinkCreated(link), at: CoreFixtures.now)
        #expect(process.handle(.feeLinkCreated(link), at: CoreFixtures.now).ignoredBecause != nil)
        let short = FeePaidV1(
            dossierId: paid.dossierId, orderId: paid.orderId, amount: 100, bankCode: "NCB", bankTransactionNumber: "1",
            paidAt: CoreFixtures.now)
        #expect(process.handle(.feePaid(short), at: CoreFixtures.now).ignoredBecause?.contains("short") == true)
        _ = process.handle(.feePaid(paid), at: CoreFixtures.now)
        _ = process.handle(.documentIssued(issued), at: CoreFixtures.now)
        let late = process.handle(.feePaid(paid), at: CoreFixtures.now)
        #expect(late.to == .completed)
        #expect(late.commands.isEmpty)
        #expect(process.handle(.operatorRejected(Reason(code: "X", message: "y")), at: CoreFixtures.now).ignoredBecause != nil)
    }

    @Test("A dossier past its legal deadline is overdue until it ends")
    func overdue() {
        var (process, _) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 0), at: CoreFixtures.now)
        #expect(!process.isOverdue(at: CoreFixtures.now.addingTimeInterval(3600)))
        #expect(process.isOverdue(at: CoreFixtures.now.addingTimeInterval(4 * 24 * 3600)))
        _ = process.handle(.operatorRejected(Reason(code: "X", message: "y")), at: CoreFixtures.now)
        #expect(!process.isOverdue(at: CoreFixtures.now.addingTimeInterval(4 * 24 * 3600)))
    }

    @Test("Every message the process sends is valid against its schema")
    func outputsMatchSchemas() throws {
        let catalog = try CoreFixtures.catalog.get()
        var (process, commands) = DossierProcess.start(CoreFixtures.dossier, procedure: Self.procedure(fee: 50000), at: CoreFixtures.now)
        for event: DossierProcess.Event in [
            .identityVerified(verified), .feeLinkCreated(link), .feePaid(paid),
            .documentIssueFailed(DocumentIssueFailedV1(
                dossierId: CoreFixtures.dossier.dossierId, reason: Reason(code: "signing-failed", message: "the signing service failed"), failedAt: CoreFixtures.now)),
        ] {
            commands += process.handle(event, at: CoreFixtures.now).commands
        }
        var checked = 0
        for command in commands {
            guard let message = command.message else { continue }
            let schema = try #require(catalog.schema(for: type(of: message).messageType))
            let errors = schema.validate(try JSONValue(parsing: message.jsonBody()))
            #expect(errors.isEmpty, "\(type(of: message).messageType): \(errors)")
            checked += 1
        }
        #expect(checked >= 9)
    }
}
