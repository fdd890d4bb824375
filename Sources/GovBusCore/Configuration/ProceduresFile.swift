public import Foundation
public import GovBusConfiguration
import GovBusContracts

/// config/procedures.yaml: the procedures the core runs, each with its fee, its document, its
/// legal deadline and a timeout per step.
///
/// ```yaml
/// procedures:
///   - code: "2.000720"
///     name: Đăng ký thành lập hộ kinh doanh
///     fee:
///       - {code: LP-DKHKD, name: Lệ phí đăng ký hộ kinh doanh, amount: 50000}
///     payee: {bankCode: VCB, accountNumber: "0011001234567", accountName: UBND PHUONG BA DINH}
///     document:
///       type: certificate
///       issuingOrgan: 000.00.04.H01
///       subject: Giấy chứng nhận đăng ký hộ kinh doanh
///       signer: {name: Lê Văn Hùng, position: Chủ tịch}
///     legalDeadline: 3d
///     timeouts: {identity: 2m, fee: 24h, document: 30m}
///     maxAttempts: 3
/// ```
public struct ProceduresFile: Sendable {
    public let procedures: [String: ProcedureDefinition]

    public init(contentsOf url: URL) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.load(url))
    }

    public init(_ text: String, file: String) throws(ConfigurationError) {
        try self.init(root: try YAMLValue.parse(text, file: file))
    }

    private init(root: YAMLValue) throws(ConfigurationError) {
        let top = try root.mapping(allowed: ["procedures"], what: "the procedures file")
        var procedures: [String: ProcedureDefinition] = [:]
        for value in try top.required("procedures", in: "the procedures file", at: root).sequence(what: "procedures") {
            let procedure = try Self.procedure(value)
            guard procedures[procedure.code] == nil else {
                throw value.error("procedure '\(procedure.code)' is defined twice")
            }
            procedures[procedure.code] = procedure
        }
        self.procedures = procedures
    }

    private static func procedure(_ value: YAMLValue) throws(ConfigurationError) -> ProcedureDefinition {
        let members = try value.mapping(
            allowed: ["code", "name", "fee", "payee", "document", "legalDeadline", "timeouts", "maxAttempts"],
            what: "a procedure")
        let code = try members.required("code", in: "a procedure", at: value).string(what: "the procedure code")
        let what = "procedure '\(code)'"
        let name = try members.required("name", in: what, at: value).string(what: "the name of \(what)")

        var fees: [FeeItem] = []
        for item in try members.value("fee")?.sequence(what: "the fee of \(what)") ?? [] {
            let fee = try item.mapping(allowed: ["code", "name", "amount"], what: "a fee item")
            let amountValue = try fee.required("amount", in: "a fee item", at: item)
            let amount = try amountValue.integer(what: "the amount")
            guard amount >= 0 else { throw amountValue.error("a fee amount is whole VND, not negative") }
            fees.append(
                FeeItem(
                    code: try fee.required("code", in: "a fee item", at: item).string(what: "the fee code"),
                    name: try fee.required("name", in: "a fee item", at: item).string(what: "the fee name"),
                    amount: amount))
        }
        var payee: BankAccount?
        if let payeeValue = members.value("payee") {
            let account = try payeeValue.mapping(allowed: ["bankCode", "accountNumber", "accountName"], what: "the payee")
            payee = BankAccount(
                bankCode: try account.required("bankCode", in: "the payee", at: payeeValue).string(what: "bankCode"),
                accountNumber: try account.required("accountNumber", in: "the payee", at: payeeValue).string(what: "accountNumber"),
                accountName: try account.required("accountName", in: "the payee", at: payeeValue).string(what: "accountName"))
        }
        if fees.contains(where: { $0.amount > 0 }), payee == nil {
            throw value.error("\(what) has a fee but no payee account to collect it into")
        }

        let documentValue = try members.required("document", in: what, at: value)
        let document = try documentValue.mapping(allowed: ["type", "issuingOrgan", "subject", "signer"], what: "the document")
        let typeValue = try document.required("type", in: "the document", at: documentValue)
        guard let type = DocumentType(rawValue: try typeValue.string(what: "the document type")) else {
            throw typeValue.error(
                "unknown document type; expected one of \(DocumentType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let signerValue = try document.required("signer", in: "the document", at: documentValue)
        let signer = try signerValue.mapping(allowed: ["name", "position"], what: "the signer")

        var timeouts: [DossierStep: Duration] = [:]
        if let timeoutsValue = members.value("timeouts") {
            for (step, duration) in try timeoutsValue.mapping(
                allowed: Set(DossierStep.allCases.map(\.rawValue)), what: "the timeouts")
            {
                timeouts[DossierStep(rawValue: step)!] = try duration.duration(what: "the \(step) timeout")
            }
        }
        let attemptsValue = members.value("maxAttempts")
        let attempts = try attemptsValue?.integer(what: "maxAttempts") ?? 3
        guard attempts >= 1 else { throw (attemptsValue ?? value).error("maxAttempts must be at least 1") }

        return ProcedureDefinition(
            code: code, name: name, feeItems: fees, payeeAccount: payee,
            document: .init(
                type: type,
                issuingOrganCode: try document.required("issuingOrgan", in: "the document", at: documentValue)
                    .string(what: "issuingOrgan"),
                subject: try document.required("subject", in: "the document", at: documentValue).string(what: "subject"),
                signer: Signer(
                    name: try signer.required("name", in: "the signer", at: signerValue).string(what: "the signer's name"),
                    position: try signer.required("position", in: "the signer", at: signerValue).string(what: "the position"))),
            legalDeadline: try members.required("legalDeadline", in: what, at: value).duration(what: "legalDeadline"),
            stepTimeouts: timeouts, maximumAttempts: attempts)
    }
}
