public import CoreMetrics
// Foundation has a Timer too: the figures' is meant.
public import class CoreMetrics.Timer
import Foundation
import Synchronization

/// The core's figures, through swift-metrics (the process picks the backend; `govbus core` exports
/// them for Prometheus): messages in per type, out per type and receiver, rejections per failed
/// check, duplicates, retries, routing latency (delivery to ack), and dossiers per state.
///
/// The handles of the per-message figures are made once per type (and receiver) and kept: making
/// one asks the backend to look it up under its lock, which per message costs more than counting.
public struct CoreMetrics: Sendable {
    private let factory: any MetricsFactory
    private let handles = Handles()

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// The handles made so far, by their dimensions' values.
    private final class Handles: Sendable {
        let received = Mutex<[String: Counter]>([:])
        let sent = Mutex<[String: Counter]>([:])
        let routed = Mutex<[String: Timer]>([:])
    }

    private static func handle<Handle>(
        _ key: String, in cache: borrowing Mutex<[String: Handle]>, make: () -> Handle
    ) -> Handle {
        cache.withLock { handles in
            if let handle = handles[key] { return handle }
            let handle = make()
            handles[key] = handle
            return handle
        }
    }

    /// Every counter an alert watches for its first increase, at 0 from the start: Prometheus's
    /// `increase()` sees no rise in a series that appears with its first event.
    public func startAtZero() {
        Counter(label: "govbus_core_duplicates_total", factory: factory).increment(by: 0)
        for outcome in ["delayed", "dead-lettered"] {
            Counter(label: "govbus_core_retries_total", dimensions: [("outcome", outcome)], factory: factory).increment(by: 0)
        }
        for check in IngressChecks.Check.allCases.map(\.rawValue) + ["delivery"] {
            Counter(label: "govbus_core_dead_letters_total", dimensions: [("check", check)], factory: factory).increment(by: 0)
        }
        for check in IngressChecks.Check.allCases {
            Counter(label: "govbus_core_rejections_total", dimensions: [("check", check.rawValue)], factory: factory)
                .increment(by: 0)
        }
        Counter(label: "govbus_core_audit_verification_failures_total", factory: factory).increment(by: 0)
    }

    func received(type: String) {
        Self.handle(type, in: handles.received) {
            Counter(label: "govbus_core_messages_in_total", dimensions: [("type", type)], factory: factory)
        }.increment()
    }

    func sent(type: String, to receiver: String) {
        Self.handle("\(type) \(receiver)", in: handles.sent) {
            Counter(
                label: "govbus_core_messages_out_total", dimensions: [("type", type), ("receiver", receiver)], factory: factory)
        }.increment()
    }

    func rejected(check: String) {
        Counter(label: "govbus_core_rejections_total", dimensions: [("check", check)], factory: factory).increment()
        deadLettered(check: check)
    }

    /// Every message the core sends to the dead letters, by the check that sent it there.
    func deadLettered(check: String) {
        Counter(label: "govbus_core_dead_letters_total", dimensions: [("check", check)], factory: factory).increment()
    }

    /// An adapter is alive: the time of its last heartbeat, which an alert compares with now.
    func heartbeat(from adapter: String, at date: Date = Date()) {
        Gauge(label: "govbus_core_adapter_heartbeat_timestamp_seconds", dimensions: [("adapter", adapter)], factory: factory)
            .record(date.timeIntervalSince1970)
    }

    /// A dossier completed: its time from submission, beside its procedure's legal deadline.
    func completed(procedure: String, after duration: TimeInterval, deadline: Duration) {
        Recorder(label: "govbus_core_dossier_completion_seconds", dimensions: [("procedure", procedure)], factory: factory)
            .record(duration)
        Gauge(label: "govbus_core_dossier_deadline_seconds", dimensions: [("procedure", procedure)], factory: factory)
            .record(deadline.timeInterval)
    }

    /// Open dossiers past their legal deadline.
    func overdue(_ count: Int) {
        Gauge(label: "govbus_core_dossiers_overdue", factory: factory).record(count)
    }

    /// The audit chain verified (up to its head), or broken.
    func auditVerified(at date: Date = Date()) {
        Gauge(label: "govbus_core_audit_verified_timestamp_seconds", factory: factory).record(date.timeIntervalSince1970)
    }

    func auditVerificationFailed() {
        Counter(label: "govbus_core_audit_verification_failures_total", factory: factory).increment()
    }

    func duplicate() {
        Counter(label: "govbus_core_duplicates_total", factory: factory).increment()
    }

    func retried(finally deadLettered: Bool) {
        Counter(
            label: "govbus_core_retries_total", dimensions: [("outcome", deadLettered ? "dead-lettered" : "delayed")],
            factory: factory
        ).increment()
        if deadLettered { self.deadLettered(check: "delivery") }
    }

    /// From the delivery to its ack: checks, audit, state change and the confirmed outputs.
    func routed(type: String, in duration: Duration) {
        Self.handle(type, in: handles.routed) {
            Timer(label: "govbus_core_routing_seconds", dimensions: [("type", type)], factory: factory)
        }.recordNanoseconds(Int64(duration.components.seconds) * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// Every state, even one no dossier is in now, so that a graph falls to zero.
    func dossiers(byState counts: [String: Int], states: [String]) {
        for state in Set(states).union(counts.keys) {
            Gauge(label: "govbus_core_dossiers", dimensions: [("state", state)], factory: factory).record(counts[state] ?? 0)
        }
    }
}
