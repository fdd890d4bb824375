public import GovBusStore
public import Logging

/// Walks the audit log's hash chain while the core runs: the whole log first and every
/// `wholeLogInterval`, and in between only the records added since (which must chain onto the
/// last one that held). An operator's alert watches the time of the last good walk; a broken
/// chain is logged as an error and counted. A record rewritten long ago shows at the next whole
/// walk, and at once to `govbus audit verify` against a checkpoint kept elsewhere.
public actor AuditVerifier {
    private let audit: AuditLog
    private let metrics: CoreMetrics
    private let interval: Duration
    private let wholeLogInterval: Duration
    private let logger: Logger
    /// The last record known to hold.
    private var verified: (sequence: Int64, hash: String)?
    private var lastWholeWalk: ContinuousClock.Instant?

    public init(
        audit: AuditLog, metrics: CoreMetrics, interval: Duration, wholeLogInterval: Duration = .seconds(6 * 3600),
        logger: Logger
    ) {
        self.audit = audit
        self.metrics = metrics
        self.interval = interval
        self.wholeLogInterval = wholeLogInterval
        self.logger = logger
    }

    /// Verifies from the last good record up to the head as it is now (records written meanwhile
    /// wait for the next turn). Returns whether the chain holds.
    @discardableResult
    public func verifyNewRecords() -> Bool {
        if lastWholeWalk.map({ ContinuousClock.now - $0 >= wholeLogInterval }) ?? true {
            verified = nil
            lastWholeWalk = .now
        }
        do {
            let head = try audit.head()
            let result = try audit.verify(after: verified, through: head.sequence)
            if let broken = result.firstBroken {
                metrics.auditVerificationFailed()
                logger.error(
                    "the audit log's chain is broken", metadata: ["record": "\(broken.sequence)", "why": "\(broken.reason)"])
                return false
            }
            verified = result.last ?? verified
            metrics.auditVerified()
            return true
        } catch {
            metrics.auditVerificationFailed()
            logger.error("cannot verify the audit log", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Verifies now, then every `interval`, until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            verifyNewRecords()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
