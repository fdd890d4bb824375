public import GovBusContracts

/// One administrative procedure as the integrator configures it (config/procedures.yaml): what
/// it costs, what document ends it, how long each step may take and the legal deadline.
public struct ProcedureDefinition: Sendable, Hashable {
    public var code: String
    public var name: String
    /// What the citizen pays, in VND; none means the fee step is skipped.
    public var feeItems: [FeeItem]
    public var payeeAccount: BankAccount?
    public var document: DocumentTemplate
    /// The legal processing deadline, from submission.
    public var legalDeadline: Duration
    /// How long the core waits for each step's answer before asking again.
    public var stepTimeouts: [DossierStep: Duration]
    /// How many times a step is asked in all before the dossier needs an operator.
    public var maximumAttempts: Int

    public struct DocumentTemplate: Sendable, Hashable {
        public var type: DocumentType
        public var issuingOrganCode: String
        public var subject: String
        public var signer: Signer

        public init(type: DocumentType, issuingOrganCode: String, subject: String, signer: Signer) {
            self.type = type
            self.issuingOrganCode = issuingOrganCode
            self.subject = subject
            self.signer = signer
        }
    }

    public init(
        code: String, name: String, feeItems: [FeeItem], payeeAccount: BankAccount?, document: DocumentTemplate,
        legalDeadline: Duration, stepTimeouts: [DossierStep: Duration], maximumAttempts: Int
    ) {
        self.code = code
        self.name = name
        self.feeItems = feeItems
        self.payeeAccount = payeeAccount
        self.document = document
        self.legalDeadline = legalDeadline
        self.stepTimeouts = stepTimeouts
        self.maximumAttempts = maximumAttempts
    }

    public var fee: Int { feeItems.reduce(0) { $0 + $1.amount } }

    func timeout(of step: DossierStep) -> Duration {
        stepTimeouts[step] ?? .seconds(3600)
    }
}

/// The steps of a dossier that wait on another system.
public enum DossierStep: String, Sendable, Hashable, Codable, CaseIterable {
    case identity, fee, document
}
