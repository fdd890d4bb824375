import Foundation
import GovBusContracts
import GovBusCore
import GovBusStore
import GovBusTelemetry

/// What the console reads of the core's store, read-only, through the store module: dossiers and
/// their transitions, the audit log's records, and what follows from them: adapters' heartbeats,
/// throughput per type, completion times.
final class CoreDataReader: Sendable {
    private let dossiers: DossierStore
    private let audit: AuditLog

    init(_ location: StoreLocation) throws {
        dossiers = try DossierStore(location, readOnly: true)
        audit = try AuditLog(location, readOnly: true)
    }

    // MARK: Dossiers

    struct DossierRow: Codable, Sendable {
        var dossierId: String
        var procedureCode: String
        var procedureName: String
        var state: String
        var communeCode: String
        /// The commune that replaced `communeCode` since, if one did.
        var communeNow: String?
        var applicantName: String
        var applicantPersonalId: String
        var submittedAt: Date
        var updatedAt: Date
        var legalDeadline: Date
        var overdue: Bool
    }

    struct DossierFilter: Sendable {
        var text: String?
        var procedure: String?
        var state: String?
        var commune: String?
        /// A commune asked for includes the communes it replaced.
        var communes = CommuneChanges.none
        var overdueOnly = false
        var limit = 200
    }

    static let finalStates: Set<String> = ["completed", "rejected"]

    func dossierList(_ filter: DossierFilter, now: Date = Date()) throws -> [DossierRow] {
        let stored = try dossiers.dossiers(
            state: filter.state, idContaining: filter.text, overdueAt: filter.overdueOnly ? now : nil, limit: filter.limit * 4)
        return try stored.compactMap { dossier -> DossierRow? in
            let item = try Self.dossierRow(dossier, now: now)
            if let procedure = filter.procedure, item.procedureCode != procedure { return nil }
            if let commune = filter.commune, filter.communes.current(item.communeCode, at: now) != commune, item.communeCode != commune {
                return nil
            }
            return item
        }.prefix(filter.limit).map { $0 }
    }

    func dossier(_ id: String, now: Date = Date()) throws -> DossierRow? {
        try dossiers.dossier(id).map { try Self.dossierRow($0, now: now) }
    }

    /// The longest overdue first.
    func overdue(limit: Int, now: Date = Date()) throws -> [DossierRow] {
        try dossiers.overdue(at: now, limit: limit).map { try Self.dossierRow($0, now: now) }
    }

    func longestWaiting(in state: String, limit: Int, now: Date = Date()) throws -> [DossierRow] {
        try dossiers.longestWaiting(in: state, limit: limit).map { try Self.dossierRow($0, now: now) }
    }

    /// The `traceparent` the dossier was submitted in, if it came with one.
    func trace(of id: String) throws -> TraceHeaders? {
        guard let stored = try dossiers.dossier(id) else { return nil }
        let snapshot = try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: stored.snapshot)
        return TraceHeaders(parent: snapshot.traceparent, state: nil)
    }

    private static func dossierRow(_ stored: DossierStore.Dossier, now: Date) throws -> DossierRow {
        let snapshot = try ContractCoding.decoder.decode(DossierProcess.Snapshot.self, from: stored.snapshot)
        return DossierRow(
            dossierId: stored.dossierID, procedureCode: snapshot.procedureCode, procedureName: snapshot.dossier.procedure.name,
            state: stored.state, communeCode: snapshot.dossier.communeCode, applicantName: snapshot.dossier.applicant.fullName,
            applicantPersonalId: snapshot.dossier.applicant.personalId, submittedAt: snapshot.dossier.submittedAt,
            updatedAt: stored.updatedAt, legalDeadline: stored.legalDeadline,
            overdue: !finalStates.contains(stored.state) && stored.legalDeadline < now)
    }

    struct TransitionRow: Codable, Sendable {
        var from: String
        var to: String
        var at: Date
        var cause: String
        var ignoredBecause: String?
    }

    func transitions(of id: String) throws -> [TransitionRow] {
        try dossiers.transitions(of: id).map {
            TransitionRow(from: $0.from, to: $0.to, at: $0.at, cause: $0.causeMessageID, ignoredBecause: $0.ignoredBecause)
        }
    }

    func countsByState() throws -> [String: Int] {
        try dossiers.countsByState()
    }

    // MARK: The audit log

    struct TimelineEntry: Codable, Sendable {
        var sequence: Int64
        var at: Date
        var kind: String
        var type: String
        var sender: String
        var receivers: [String]
        var messageId: String
        /// Seconds since the step before.
        var sincePrevious: Double?
        var body: String?
    }

    /// Every message about a dossier, across the subsystems, in order.
    func timeline(of correlationID: String) throws -> [TimelineEntry] {
        var previous: Date?
        return try audit.records(correlationID: correlationID).map { record in
            defer { previous = record.recordedAt }
            return TimelineEntry(
                sequence: record.sequence, at: record.recordedAt, kind: record.kind.rawValue, type: record.type,
                sender: record.sender, receivers: record.receivers, messageId: record.messageID,
                sincePrevious: previous.map { record.recordedAt.timeIntervalSince($0) },
                body: record.body.map { String(decoding: $0, as: UTF8.self) })
        }
    }

    struct AdapterActivity: Codable, Sendable {
        var name: String
        var lastHeartbeat: Date?
        var version: String?
        var state: String
        var messagesIn: Int
        var messagesOut: Int
    }

    /// Each adapter's last heartbeat and the last hour's messages from it and to it: "up" when a
    /// heartbeat came within 30 s, "late" within 2 minutes, else "down".
    func adapters(_ names: [String], now: Date = Date()) throws -> [AdapterActivity] {
        let hourAgo = now.addingTimeInterval(-3600)
        return try names.map { name in
            let beat = try audit.lastRecord(type: AdapterHeartbeatV1.messageType, sentBy: name)
            let version = beat?.body.flatMap { try? AdapterHeartbeatV1(jsonBody: $0) }?.version
            let age = beat.map { now.timeIntervalSince($0.recordedAt) } ?? .infinity
            return AdapterActivity(
                name: name, lastHeartbeat: beat?.recordedAt, version: version,
                state: age <= 30 ? "up" : age <= 120 ? "late" : "down",
                messagesIn: try audit.count(sentBy: name, since: hourAgo, excluding: AdapterHeartbeatV1.messageType),
                messagesOut: try audit.count(receivedBy: name, since: hourAgo))
        }
    }

    struct ThroughputPoint: Codable, Sendable {
        var minute: Date
        var type: String
        var count: Int
    }

    struct AdapterPoint: Codable, Sendable {
        var minute: Date
        var adapter: String
        var count: Int
    }

    /// Messages per sending adapter and minute over the last hour (heartbeats and the core's own
    /// messages left out).
    func throughputPerAdapter(_ names: [String], now: Date = Date()) throws -> [AdapterPoint] {
        try audit.countsPerMinute(by: .sender, since: now.addingTimeInterval(-3600), excluding: AdapterHeartbeatV1.messageType)
            .filter { names.contains($0.key) }
            .map { AdapterPoint(minute: $0.minute, adapter: $0.key, count: $0.count) }
    }

    /// A number that changes whenever the core records something but a heartbeat: the live
    /// page's cue (heartbeats come every few seconds and change nothing a page shows).
    func lastRecordedSequence() throws -> Int64 {
        try audit.lastSequence(excluding: AdapterHeartbeatV1.messageType)
    }

    /// Messages per type and minute over the last hour (heartbeats left out).
    func throughput(now: Date = Date()) throws -> [ThroughputPoint] {
        try audit.countsPerMinute(by: .type, since: now.addingTimeInterval(-3600), excluding: AdapterHeartbeatV1.messageType).map {
            ThroughputPoint(minute: $0.minute, type: $0.key, count: $0.count)
        }
    }

    /// Seconds from submission to the end, for the dossiers that ended in the last day.
    func completionTimes(now: Date = Date()) throws -> [Double] {
        try dossiers.completionTimes(endedSince: now.addingTimeInterval(-86400))
    }
}
