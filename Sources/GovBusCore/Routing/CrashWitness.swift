import Crypto
import Foundation
import GovBus
import GovBusContracts
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Remembers, in a small file, the message the core has in hand while it checks or routes it, so
/// that after a crash the core knows which message killed it. When that message comes back (the
/// broker redelivers what was not acked), the core sends it to the dead letters at once instead of
/// letting it kill the core again. One `pwrite` of 64 bytes per message, not synced: the
/// page cache survives the death of the process, which is all this needs (the queue's delivery
/// limit covers the death of the machine).
///
/// Only a fault counts (a trap, an abort, a bad access: what a bug does) on the thread that holds
/// the message, noted by a signal handler in a flag beside the slot. A core stopped by SIGKILL, a
/// lost machine or a fault elsewhere (a timer, an HTTP request) accuses no message.
final class CrashWitness: Sendable {
    /// The SHA-256 (hex) of the sender and message id as they came from the wire: any length and
    /// any bytes fit, and nothing of them is parsed.
    static let slotSize = 64
    /// The signals a bug ends a process with.
    static let faultSignals: [Int32] = [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE]
    private let descriptor: Int32
    /// What the file held at start: the message in hand when the previous run died of a fault.
    private let suspect: Mutex<String?>

    init(path: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ProcessManager.Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: Self.slotSize + 1)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        let diedOfFault = count == buffer.count && buffer[Self.slotSize] == 1
        let held = buffer.prefix(min(max(0, count), Self.slotSize)).prefix { $0 != 0 }
        suspect = Mutex(diedOfFault && !held.isEmpty ? String(decoding: held, as: UTF8.self) : nil)
        var clear: [UInt8] = [0]
        _ = pwrite(descriptor, &clear, 1, off_t(Self.slotSize))
        _ = pwrite(descriptor, &clear, 1, 0)
        Self.noteFaults(in: descriptor)
    }

    // No deinit closing the descriptor: the signal handler may write to it until the process ends.

    /// Installs the handler that sets the fault flag, then hands the signal on to the handler
    /// that was there before (Swift's backtracer), which reports the crash as usual.
    private static func noteFaults(in descriptor: Int32) {
        faultFlagDescriptor = descriptor
        for signal in faultSignals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = setFaultFlag
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, previousFaultActions + Int(signal))
        }
    }

    static func key(of delivery: (userID: String?, messageID: String?)) -> String {
        Array(SHA256.hash(data: Data("\(delivery.userID ?? "")\n\(delivery.messageID ?? "")".utf8))).lowercaseHex
    }

    /// Notes the message about to be checked or routed, and the thread that does it.
    func hold(_ key: String) {
        let bytes = Array(key.utf8.prefix(Self.slotSize))
        _ = pwrite(descriptor, bytes, bytes.count, 0)
        holdingThread = pthread_self()
    }

    /// Nothing in hand any more.
    func release() {
        holdingThread = 0
        var zero: UInt8 = 0
        _ = pwrite(descriptor, &zero, 1, 0)
    }

    /// Whether `key`, delivered again, is the message the previous run died with (asked once: the
    /// suspect is forgotten when found).
    func killedThePreviousRun(_ key: String, redelivered: Bool) -> Bool {
        guard redelivered else { return false }
        return suspect.withLock { suspect in
            guard suspect == key else { return false }
            suspect = nil
            return true
        }
    }
}

/// What the signal handler may touch: plain memory, the descriptor set once before any handler
/// runs, the thread id set by the thread that holds a message (read only by that thread's handler).
private nonisolated(unsafe) var faultFlagDescriptor: Int32 = -1
private nonisolated(unsafe) var holdingThread: pthread_t = 0
private nonisolated(unsafe) let previousFaultActions: UnsafeMutablePointer<sigaction> = {
    let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
    actions.initialize(repeating: sigaction(), count: 65)
    return actions
}()

/// Async-signal-safe: one `pwrite`, one `sigaction`. A fault instruction runs again on return and
/// meets the previous handler; a trap or an abort is raised again for it.
private func setFaultFlag(_ signal: Int32) {
    if holdingThread != 0, holdingThread == pthread_self() {
        var one: UInt8 = 1
        _ = pwrite(faultFlagDescriptor, &one, 1, off_t(CrashWitness.slotSize))
    }
    sigaction(signal, previousFaultActions + Int(signal), nil)
    if signal == SIGTRAP || signal == SIGABRT { raise(signal) }
}
