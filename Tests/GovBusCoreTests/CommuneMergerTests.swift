import AMQP
import AMQPTesting
import CoreTestFixtures
import Foundation
import GovBusContracts
import GovBusStore
import Glibc
import Testing

@testable import GovBusCore

/// Three communes merged into one while a thousand dossiers are in flight, on a running core that
/// is never restarted: a rule per commune sends its document requests to a document system of
/// its own, and the merger, given to the core by SIGHUP, takes effect at its time.
@Suite("Communes merged while dossiers run")
struct CommuneMergerTests {
    // Made-up codes: three communes merged into a fourth.
    static let old = ["90001", "90002", "90003"]
    static let merged = "90004"
    static let dossierCount = 1000

    @Test("1,000 dossiers, three communes merged into one mid-run: none lost, each document request goes where the rules of its time say")
    func mergeWhileRunning() async throws {
        let bus = try await TestBus.make()
        let url = bus.broker.url(user: "guest", password: "guest", vhost: bus.vhost)
        // One document system per commune, the new one included.
        let systems = (Self.old + [Self.merged]).reduce(into: [String: String]()) { $0[$1] = "doc-\($1)-\(bus.suffix)" }
        let key = try CoreFixtures.sandboxSigner("archive").publicKey.rawRepresentation.base64EncodedString()
        var routes = bus.routesText
        for (index, system) in systems.values.sorted().enumerated() {
            routes += "  \(system):\n    keys: {doc-\(index): \(key)}\n    publishes: []\n    receives: [document.issue-requested.v1]\n"
        }
        routes += "rules:\n"
        for (commune, system) in systems.sorted(by: { $0.key < $1.key }) {
            routes += "  - {type: document.issue-requested.v1, when: {communeCode: \"\(commune)\"}, to: \(system)}\n"
        }
        let folder = try CoreCommandTests().configFolder(amqpURL: url, routes: routes)
        let communesFile = folder.appendingPathComponent("communes.yaml")
        try "changes: []\n".write(to: communesFile, atomically: true, encoding: .utf8)
        try "\ncommunes: communes.yaml\n".appendToFile(folder.appendingPathComponent("core.yaml"))
        let data = folder.appendingPathComponent("data")
        let logFile = folder.appendingPathComponent("core.log").path
        let core = try ChildProcess.start(
            CoreCommandTests.binary, ["core", "--config", folder.appendingPathComponent("core.yaml").path],
            environment: ["GOVBUS_AMQP_URL": url, "GOVBUS_SANDBOX_KEYS": "allow", "GOVBUS_DATA_DIR": data.path],
            errors: logFile)
        var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }
        let watcher = try await AMQPConnection.connect(url: url)
        try await waitUntil("the core consumes: \(log)") {
            (try? await watcher.inspectQueue(CoreTopology.coreQueue).consumerCount) == 1
        }
        let statuses = DossierEndToEndTests.Statuses()
        let adapters = Task { try await DossierEndToEndTests.runTestAdapters(bus.test, statuses: statuses) }
        func requested() async -> Int {
            var total = 0
            for system in systems.values { total += Int((try? await watcher.inspectQueue(CoreTopology.inbox(of: system)).messageCount) ?? 0) }
            return total
        }
        func submit(_ numbers: ClosedRange<Int>) async throws {
            for number in numbers {
                var dossier = CoreFixtures.dossier
                dossier.dossierId = String(format: "H01.04-261203-%04d", number)
                dossier.communeCode = Self.old[number % Self.old.count]
                try await bus.test.send(dossier, as: "portal", dossier: dossier.dossierId)
            }
        }

        // Most dossiers first; the merger is given while they run, and takes effect 2 s later.
        let firstWave = Self.dossierCount * 6 / 10
        try await submit(1...firstWave)
        try await waitUntil("a quarter of the documents asked for", within: .seconds(300)) { await requested() >= Self.dossierCount / 4 }
        let effective = Date().addingTimeInterval(2)
        try """
            changes:
              - into: "\(Self.merged)"
                name: Phường Hợp Nhất
                from: [\(Self.old.map { "\"\($0)\"" }.joined(separator: ", "))]
                effective: \(RFC3339.string(from: effective))

            """.write(to: communesFile, atomically: true, encoding: .utf8)
        // What was in flight at the switch: messages waiting in the core's queue, and dossiers
        // submitted whose document had not been asked for yet.
        let queuedAtSwitch = (try? await watcher.inspectQueue(CoreTopology.coreQueue).messageCount) ?? 0
        let dossiersBeforeTheirDocument = firstWave - (await requested())
        core.send(signal: SIGHUP)
        try await waitUntil("the merger is in force: \(log)") { log.contains("configuration reloaded") }
        #expect(log.contains("+ commune 90001, 90002, 90003 → 90004"), "\(log)")
        let reloadTook = log.split(separator: "\n").first { $0.contains("configuration reloaded") }?
            .split(separator: " ").first { $0.hasPrefix("took=") } ?? "took=?"
        while Date() < effective { try await Task.sleep(for: .milliseconds(100)) }
        // Then dossiers still submitted under the old codes.
        try await submit((firstWave + 1)...Self.dossierCount)
        try await waitUntil("every document asked for", within: .seconds(600)) {
            await requested() >= Self.dossierCount
        }
        try await Task.sleep(for: .seconds(1))
        #expect(await requested() == Self.dossierCount)
        core.send(signal: SIGTERM)
        #expect(try await core.exitStatus(within: .seconds(20)) == 0)
        #expect(log.components(separatedBy: "core running").count == 2, "the core started once")

        // Each dossier's document request, once, to the system of its commune at the time it was
        // routed. A request recorded within a second after the effective time may have been
        // routed just before it (the audit records after routing): either system is right then.
        let audit = try AuditLog(.sqlite(folder: data), readOnly: true)
        var acrossTheSwitch = 0
        var (toOld, toNew, atTheEdge) = (0, 0, 0)
        for number in 1...Self.dossierCount {
            let id = String(format: "H01.04-261203-%04d", number)
            let records = try audit.records(correlationID: id)
            let requests = records.filter { $0.type == DocumentIssueRequestedV1.messageType }
            #expect(requests.count == 1, "\(id): \(requests.count) document requests")
            guard let request = requests.first, let submitted = records.first(where: { $0.type == DossierSubmittedV1.messageType }) else {
                continue
            }
            let own = systems[Self.old[number % Self.old.count]]!
            let new = systems[Self.merged]!
            if submitted.recordedAt < effective && request.recordedAt >= effective { acrossTheSwitch += 1 }
            if request.recordedAt < effective {
                #expect(request.receivers == [own], "\(id) routed at \(request.recordedAt), before the merger")
                toOld += 1
            } else if request.recordedAt > effective.addingTimeInterval(1) {
                #expect(request.receivers == [new], "\(id) routed at \(request.recordedAt), after the merger")
                toNew += 1
            } else {
                #expect(request.receivers == [own] || request.receivers == [new])
                atTheEdge += 1
            }
        }
        #expect(toOld > 0 && toNew > 0)
        #expect(acrossTheSwitch > 0, "no dossier was in flight when the merger took effect")
        #expect(try audit.verify().firstBroken == nil)
        print(
            "commune merger: reload \(reloadTook); at the switch \(queuedAtSwitch) messages waited in the core's queue and \(dossiersBeforeTheirDocument) dossiers had yet to ask for their document; "
                + "\(Self.dossierCount) dossiers, \(toOld) documents asked of the old communes' systems, \(toNew) of the new one's, \(atTheEdge) within 1 s of the effective time; \(acrossTheSwitch) in flight across it; none lost")

        adapters.cancel()
        await watcher.close()
        try await bus.tearDown()
    }

    func waitUntil(
        _ what: @autoclosure () -> String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool
    ) async throws {
        try await CoreCrashTests().waitUntil(what(), within: limit, condition)
    }
}

extension String {
    fileprivate func appendToFile(_ file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}
