import Dispatch
public import GovBusStore
public import Logging

/// Walks the audit log's hash chain while the core runs: the whole log first and every
/// `wholeLogInterval`, and in between only the records added since, which must chain onto the
/// last one that held (itself read again, so that a log cut short or rewritten there shows). An
/// operator's alert watches the time of the last good walk; a broken chain is logged as an error
/// and counted at every turn until it is dealt with. A record rewritten long ago shows at the next
/// whole walk, and at once to `govbus audit verify` against a checkpoint kept elsewhere.
///
/// A log that cannot be read is logged, not counted as broken: the "not verified" alert covers an
/// outage of the store; the "broken" one means someone changed the log.
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

    private enum Outcome: Sendable {
        case holds(through: (sequence: Int64, hash: String))
        case broken(at: Int64, because: String)
    }

    /// Verifies from the last good record up to the head as it is now (records written meanwhile
    /// wait for the next turn). Returns whether the chain holds.
    @discardableResult
    public func verifyNewRecords() async -> Bool {
        if lastWholeWalk.map({ ContinuousClock.now - $0 >= wholeLogInterval }) ?? true {
            verified = nil
            lastWholeWalk = .now
        }
        let outcome: Outcome
        do {
            outcome = try await Self.offTheTaskPool { [audit, verified] in try Self.walk(audit, after: verified) }
        } catch {
            logger.warning("cannot read the audit log to verify it", metadata: ["error": "\(error)"])
            return false
        }
        switch outcome {
        case .holds(let last):
            verified = last
            metrics.auditVerified()
            return true
        case .broken(let sequence, let reason):
            metrics.auditVerificationFailed()
            logger.error("the audit log's chain is broken", metadata: ["record": "\(sequence)", "why": "\(reason)"])
            return false
        }
    }

    private static func walk(_ audit: AuditLog, after start: (sequence: Int64, hash: String)?) throws -> Outcome {
        let head = try audit.head()
        if let start, start.sequence > 0 {
            guard head.sequence >= start.sequence else {
                return .broken(at: head.sequence + 1, because: "the log ends at \(head.sequence), before record \(start.sequence) verified earlier")
            }
            guard try audit.hashes(of: [start.sequence])[start.sequence] == start.hash else {
                return .broken(at: start.sequence, because: "record \(start.sequence) is not the one verified earlier")
            }
        }
        let result = try audit.verify(after: start, through: head.sequence)
        if let broken = result.firstBroken { return .broken(at: broken.sequence, because: broken.reason) }
        return .holds(through: result.last ?? start ?? (0, AuditRecord.genesis))
    }

    /// A whole walk reads every record: on a thread of its own, not one the router needs.
    private static func offTheTaskPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Verifies now, then every `interval`, until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await verifyNewRecords()
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
