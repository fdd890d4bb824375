public import Foundation
public import GovBusStore
public import Logging

/// Makes the core's audit checkpoints: every `interval` when the log has moved, and once more
/// when the core stops (its caller calls `checkpointIfMoved()` after the last record is in).
/// Each is appended to the checkpoints file first (an operator ships it off the machine: only a
/// copy elsewhere shows a log cut short or rewritten), then published with `publish`.
public actor AuditCheckpointer {
    private let audit: AuditLog
    private let keyID: String
    private let seed: String
    private let file: URL
    private let interval: Duration
    private let logger: Logger
    private let publish: @Sendable (AuditCheckpoint) async throws -> Void
    /// The record the last checkpoint of this run vouched for; nil before the first.
    private var lastSequence: Int64?

    /// Checks the key at once: a bad one stops the core before it runs.
    public init(
        audit: AuditLog, signingKey: (id: String, seed: String), file: URL, interval: Duration, logger: Logger,
        publish: @escaping @Sendable (AuditCheckpoint) async throws -> Void
    ) throws {
        _ = try AuditCheckpoint.publicKey(ofSeed: signingKey.seed)
        self.audit = audit
        self.keyID = signingKey.id
        self.seed = signingKey.seed
        self.file = file
        self.interval = interval
        self.logger = logger
        self.publish = publish
    }

    /// A signed checkpoint of the log's last record now; nothing written or published.
    public nonisolated func makeCheckpoint(at now: Date = Date()) throws -> AuditCheckpoint {
        let head = try audit.head()
        return try AuditCheckpoint.sign(sequence: head.sequence, headHash: head.hash, at: now, keyID: keyID, base64Seed: seed)
    }

    /// When the log has records and has moved since the last checkpoint: makes one, appends it to
    /// the file, publishes it, and returns it. A failure is logged, not thrown: checkpoints must
    /// not stop the core, and the next one covers what this one missed.
    @discardableResult
    public func checkpointIfMoved() async -> AuditCheckpoint? {
        let checkpoint: AuditCheckpoint
        do {
            checkpoint = try makeCheckpoint()
            guard checkpoint.sequence > 0, checkpoint.sequence != lastSequence else { return nil }
            try checkpoint.append(to: file)
        } catch {
            logger.error("cannot make an audit checkpoint", metadata: ["error": "\(error)", "file": "\(file.path)"])
            return nil
        }
        lastSequence = checkpoint.sequence
        logger.debug("audit checkpoint", metadata: ["sequence": "\(checkpoint.sequence)", "hash": "\(checkpoint.headHash)"])
        do {
            try await publish(checkpoint)
        } catch {
            // The file has it; the bus copy is for shipping it sooner.
            logger.warning(
                "cannot publish an audit checkpoint", metadata: ["error": "\(error)", "sequence": "\(checkpoint.sequence)"])
        }
        return checkpoint
    }

    /// A checkpoint every `interval` when the log moved, until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            await checkpointIfMoved()
        }
    }
}
