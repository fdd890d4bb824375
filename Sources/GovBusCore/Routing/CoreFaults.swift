import Glibc

/// Faults a test switches on in a real `govbus core` process, through its environment. Nothing a
/// sender controls can switch them on.
/// - `GOVBUS_TEST_CRASH_ON=<dossier>`: the core dies (a trap) on taking any message of that
///   dossier, to prove that a message which kills the core cannot kill it again.
/// - `GOVBUS_TEST_KILL_AFTER_SYNC=1`: the core SIGKILLs itself once a batch of several messages is
///   marked handled (synced) and before any of them is acked, to prove that the batch comes back
///   without a lost message or a repeated effect.
public struct CoreFaults: Sendable, Hashable {
    public var crashOnCorrelationID: String?
    public var killAfterSyncedBatch = false

    public static let none = CoreFaults()

    public init(crashOnCorrelationID: String? = nil, killAfterSyncedBatch: Bool = false) {
        self.crashOnCorrelationID = crashOnCorrelationID
        self.killAfterSyncedBatch = killAfterSyncedBatch
    }

    public static func fromEnvironment(_ environment: [String: String]) -> CoreFaults {
        CoreFaults(
            crashOnCorrelationID: environment["GOVBUS_TEST_CRASH_ON"].flatMap { $0.isEmpty ? nil : $0 },
            killAfterSyncedBatch: environment["GOVBUS_TEST_KILL_AFTER_SYNC"] == "1")
    }

    /// Between the sync of a batch of `count` handled messages and their acks.
    func killIfAsked(afterSyncing count: Int) {
        guard killAfterSyncedBatch, count >= 2 else { return }
        kill(getpid(), SIGKILL)
    }

    func crashIfAsked(correlationID: String?) {
        guard let crashOnCorrelationID, correlationID == crashOnCorrelationID else { return }
        fatalError("GOVBUS_TEST_CRASH_ON: the core dies on a message of \(crashOnCorrelationID), as the test asked")
    }
}
