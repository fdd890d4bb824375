import Foundation
import GRDB
import GovBusStore
import Logging
import Prometheus
import Testing

@testable import GovBusCore

/// The core's own walk of its audit chain, on a real SQLite log: what the "audit not verified"
/// alert watches.
@Suite("The audit chain, verified while the core runs")
struct AuditVerifierTests {
    func log() throws -> (AuditLog, path: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).sqlite").path
        return (try AuditLog(path: path), path)
    }

    func append(_ audit: AuditLog, _ count: Int, from first: Int = 0) throws {
        _ = try audit.append(
            (first..<first + count).map { index in
                AuditLog.Entry(
                    messageID: "m-\(index)", type: "portal.dossier.submitted.v1", sender: "portal", receivers: ["registry"],
                    correlationID: "d-\(index)", body: Data(#"{"n":\#(index)}"#.utf8), signature: "s")
            })
    }

    /// What someone with the file in hand could do: the trigger that keeps the log append-only
    /// dropped, a record changed.
    func tamper(_ path: String, record sequence: Int) throws {
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_record_no_update")
            try db.execute(sql: "UPDATE audit_record SET receivers = '[]' WHERE sequence = ?", arguments: [sequence])
        }
    }

    /// The log's last records deleted, the trigger that forbids it dropped first.
    func cut(_ path: String, after sequence: Int) throws {
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "DROP TRIGGER audit_record_no_delete")
            try db.execute(sql: "DELETE FROM audit_record WHERE sequence > ?", arguments: [sequence])
        }
    }

    func figures(_ registry: PrometheusCollectorRegistry) -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    func verifier(_ audit: AuditLog, _ registry: PrometheusCollectorRegistry, wholeLogInterval: Duration = .seconds(3600))
        -> AuditVerifier
    {
        let metrics = CoreMetrics(factory: PrometheusMetricsFactory(registry: registry))
        metrics.startAtZero()
        return AuditVerifier(
            audit: audit, metrics: metrics, interval: .seconds(60), wholeLogInterval: wholeLogInterval, logger: Logger(label: "test"))
    }

    @Test("A chain that holds is verified, then only what was added; the time of the last good walk is a figure")
    func holds() async throws {
        let (audit, _) = try log()
        let registry = PrometheusCollectorRegistry()
        let verifier = verifier(audit, registry)
        try append(audit, 50)
        #expect(await verifier.verifyNewRecords())
        try append(audit, 30, from: 50)
        #expect(await verifier.verifyNewRecords())
        let text = figures(registry)
        #expect(text.contains("govbus_core_audit_verified_timestamp_seconds "))
        #expect(text.contains("govbus_core_audit_verification_failures_total 0"))
    }

    @Test("An empty log holds, and still does once records arrive")
    func empty() async throws {
        let (audit, _) = try log()
        let verifier = verifier(audit, PrometheusCollectorRegistry())
        #expect(await verifier.verifyNewRecords())
        #expect(await verifier.verifyNewRecords())
        try append(audit, 3)
        #expect(await verifier.verifyNewRecords())
    }

    @Test("A log cut short below the last record verified is broken, at every turn")
    func cutShort() async throws {
        let (audit, path) = try log()
        let registry = PrometheusCollectorRegistry()
        let verifier = verifier(audit, registry)
        try append(audit, 10)
        #expect(await verifier.verifyNewRecords())
        try cut(path, after: 6)
        #expect(await !verifier.verifyNewRecords())
        #expect(await !verifier.verifyNewRecords())
        #expect(figures(registry).contains("govbus_core_audit_verification_failures_total 2"))
    }

    @Test("A record rewritten after the last walk is found at the next one, and counted")
    func rewrittenSinceTheLastWalk() async throws {
        let (audit, path) = try log()
        let registry = PrometheusCollectorRegistry()
        let verifier = verifier(audit, registry)
        try append(audit, 10)
        #expect(await verifier.verifyNewRecords())
        try append(audit, 5, from: 10)
        try tamper(path, record: 12)
        #expect(await !verifier.verifyNewRecords())
        #expect(figures(registry).contains("govbus_core_audit_verification_failures_total 1"))
    }

    @Test("A record rewritten long ago is found at the next walk of the whole log")
    func rewrittenLongAgo() async throws {
        let (audit, path) = try log()
        let registry = PrometheusCollectorRegistry()
        let verifier = verifier(audit, registry, wholeLogInterval: .zero)
        try append(audit, 10)
        #expect(await verifier.verifyNewRecords())
        try tamper(path, record: 3)
        #expect(await !verifier.verifyNewRecords())
    }
}
