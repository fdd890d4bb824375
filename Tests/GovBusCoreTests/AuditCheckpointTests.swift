@testable import GovBusStore
import GovBusConfiguration
import AMQPTesting
import Foundation
import GovBusContracts
import Logging
import CoreTestFixtures
import Testing

@testable import GovBusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Audit checkpoints")
struct AuditCheckpointTests {
    /// Not a sandbox key: those may be refused outside sandbox mode.
    static let seed = Data(repeating: 9, count: 32).base64EncodedString()
    static let keyID = "core-test"
    static let keys = [keyID: try! AuditCheckpoint.publicKey(ofSeed: seed)]

    let logs = AuditLogTests()

    func sign(_ log: AuditLog) throws -> AuditCheckpoint {
        let head = try log.head()
        return try AuditCheckpoint.sign(
            sequence: head.sequence, headHash: head.hash, at: Date(), keyID: Self.keyID, base64Seed: Self.seed)
    }

    func append(_ log: AuditLog, records: Int) throws {
        for index in 1...records {
            try log.append(
                messageID: UUID().uuidString.lowercased(), type: "payment.fee.paid.v1", sender: "payment",
                receivers: ["core"], correlationID: "G22.99-251121-0009", body: Data("{\"m\":\(index)}".utf8),
                signature: "c2lnbmF0dXJl")
        }
    }

    func checkpointsFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString)/audit-checkpoints.jsonl")
    }

    @Test("A valid log with checkpoints passes, and the file is the owner's only")
    func validLogPasses() throws {
        let (log, _) = try logs.makeLog(records: 5)
        let file = checkpointsFile()
        try sign(log).append(to: file)
        try append(log, records: 3)
        try sign(log).append(to: file)
        try append(log, records: 2)

        let checkpoints = try AuditCheckpoint.read(contentsOf: file)
        #expect(checkpoints.map { $0.line } == [1, 2])
        #expect(try log.verify().firstBroken == nil)
        let result = try log.verify(checkpoints: checkpoints, publicKeys: Self.keys)
        #expect(result.failure == nil)
        #expect(result.checkpoints == 2)
        #expect(result.anchoredThrough == 8)
        #expect(result.records == 10)

        var info = stat()
        let status = lstat(file.path, &info)
        #expect(status == 0)
        #expect(info.st_mode & 0o777 == 0o600)
    }

    @Test("A log cut short after a checkpoint is found truncated")
    func truncationDetected() throws {
        let (log, path) = try logs.makeLog(records: 8)
        let checkpoint = try sign(log)
        try logs.tamper(path, "DELETE FROM audit_record WHERE sequence > 6")
        // The chain alone holds: nothing after record 6 points back at it.
        #expect(try log.verify().firstBroken == nil)
        let result = try log.verify(checkpoints: [(1, checkpoint)], publicKeys: Self.keys)
        #expect(result.failure == .truncated(line: 1, sequence: 8, records: 6))
        #expect(result.failure?.description.contains("truncated") == true)
    }

    @Test("A log rewritten from some record on, with every hash recomputed, is found rewritten")
    func rewriteDetected() throws {
        let (log, path) = try logs.makeLog(records: 6)
        let checkpoint = try sign(log)
        // The attacker removes records 4 to 6 and appends forged ones: the log computes their
        // hashes itself, so the chain is perfect.
        try logs.tamper(path, "DELETE FROM audit_record WHERE sequence >= 4")
        try append(log, records: 3)
        #expect(try log.head().sequence == 6)
        #expect(try log.verify().firstBroken == nil)
        let result = try log.verify(checkpoints: [(1, checkpoint)], publicKeys: Self.keys)
        #expect(result.failure == .rewritten(line: 1, sequence: 6))
        #expect(result.failure?.description.contains("rewritten") == true)
    }

    @Test("A checkpoint with a bad signature, or another key's, or an unknown key id is refused")
    func badSignatureRefused() throws {
        let (log, _) = try logs.makeLog(records: 4)
        let good = try sign(log)

        var forged = good
        forged.sequence = 3
        forged.headHash = try #require(try log.hashes(of: [3])[3])
        var result = try log.verify(checkpoints: [(1, good), (2, forged)], publicKeys: Self.keys)
        #expect(result.failure == .badSignature(line: 2, sequence: 3))
        #expect(result.checkpoints == 1)
        #expect(result.failure?.description.contains("bad signature") == true)

        let otherKey = try AuditCheckpoint.sign(
            sequence: good.sequence, headHash: good.headHash, at: Date(), keyID: Self.keyID,
            base64Seed: Data(repeating: 1, count: 32).base64EncodedString())
        result = try log.verify(checkpoints: [(1, otherKey)], publicKeys: Self.keys)
        #expect(result.failure == .badSignature(line: 1, sequence: 4))

        result = try log.verify(checkpoints: [(1, good)], publicKeys: ["another-key": Self.keys[Self.keyID]!])
        #expect(result.failure == .unknownKey(line: 1, keyID: Self.keyID))

        #expect(try log.verify(checkpoints: [], publicKeys: Self.keys).failure == .empty)
    }

    @Test("What it cannot see: a truncation back before a checkpoint also deleted from the file")
    func deletedCheckpointIsNotSeen() throws {
        let (log, path) = try logs.makeLog(records: 5)
        let kept = try sign(log)
        try append(log, records: 3)
        _ = try sign(log)  // the checkpoint of record 8, deleted from the file
        try logs.tamper(path, "DELETE FROM audit_record WHERE sequence > 5")
        #expect(try log.verify(checkpoints: [(1, kept)], publicKeys: Self.keys).failure == nil)
    }

    @Test("A checkpoint signs its canonical lines and round-trips through its JSON line")
    func canonicalFormAndJSON() throws {
        let hash = String(repeating: "ab", count: 32)
        let checkpoint = try AuditCheckpoint.sign(
            sequence: 42, headHash: hash, at: Date(timeIntervalSince1970: 1_768_212_000.7), keyID: Self.keyID,
            base64Seed: Self.seed)
        #expect(checkpoint.time == "2026-01-12T10:00:00Z")
        #expect(
            String(decoding: checkpoint.canonicalBytes, as: UTF8.self)
                == "govbus-audit-checkpoint-v1\ncore-test\n42\n\(hash)\n2026-01-12T10:00:00Z")
        let line = String(decoding: try checkpoint.jsonLine(), as: UTF8.self)
        #expect(line.hasPrefix("{\"headHash\":\"\(hash)\",\"keyId\":\"core-test\",\"sequence\":42,\"signature\":\""))
        #expect(!line.contains("\n"))
        #expect(try AuditCheckpoint(jsonLine: Data(line.utf8)) == checkpoint)
        #expect(checkpoint.hasValidSignature(publicKey: Self.keys[Self.keyID]!))
    }

    @Test("A line of the file that is not a checkpoint is named by its number")
    func malformedLine() throws {
        let (log, _) = try logs.makeLog(records: 2)
        let file = checkpointsFile()
        try sign(log).append(to: file)
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"sequence\": \"two\"}\n".utf8))
        try handle.close()
        let error = #expect(throws: AuditCheckpointError.self) { try AuditCheckpoint.read(contentsOf: file) }
        #expect(error?.description.contains("line 2") == true, "\(String(describing: error))")
    }

    actor Published {
        var checkpoints: [AuditCheckpoint] = []
        func add(_ checkpoint: AuditCheckpoint) { checkpoints.append(checkpoint) }
    }

    @Test("The core checkpoints only when the log moved, to the file first and then the bus")
    func checkpointer() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).sqlite").path
        let log = try AuditLog(path: path)
        let file = checkpointsFile()
        let published = Published()
        let checkpointer = try AuditCheckpointer(
            audit: log, signingKey: (Self.keyID, Self.seed), file: file, interval: .seconds(60),
            logger: Logger(label: "checkpoint-test")
        ) { checkpoint in
            await published.add(checkpoint)
        }
        #expect(await checkpointer.checkpointIfMoved() == nil)  // an empty log: nothing to anchor
        try append(log, records: 3)
        let first = try #require(await checkpointer.checkpointIfMoved())
        #expect(first.sequence == 3)
        #expect(await checkpointer.checkpointIfMoved() == nil)  // not moved
        try append(log, records: 1)
        #expect(await checkpointer.checkpointIfMoved()?.sequence == 4)

        #expect(await published.checkpoints.map(\.sequence) == [3, 4])
        let written = try AuditCheckpoint.read(contentsOf: file).map { $0.checkpoint }
        let sent = await published.checkpoints
        #expect(written == sent)
        #expect(try log.verify(checkpoints: AuditCheckpoint.read(contentsOf: file), publicKeys: Self.keys).failure == nil)
        #expect(try checkpointer.makeCheckpoint().sequence == 4)
    }
}

@Suite("The core's key in its configuration and the routes file")
struct CoreSigningKeyConfigurationTests {
    static let seed = AuditCheckpointTests.seed
    static let folder = URL(fileURLWithPath: "/etc/govbus")
    static let broker = "amqpUrl: amqp://guest:guest@127.0.0.1:5672/govbus"

    @Test("signingKey, auditCheckpoints and auditCheckpointInterval load, with their defaults")
    func loads() throws {
        let configuration = try CoreConfiguration(
            """
            \(Self.broker)
            data: /var/lib/govbus
            signingKey: {id: core-2026-01, seed: \(Self.seed)}
            """, file: "core.yaml", folder: Self.folder, environment: [:])
        #expect(configuration.signingKey?.id == "core-2026-01")
        #expect(configuration.signingKey?.seed == Self.seed)
        #expect(configuration.auditCheckpoints.path == "/var/lib/govbus/audit-checkpoints.jsonl")
        #expect(configuration.auditCheckpointInterval == .seconds(60))

        let other = try CoreConfiguration(
            """
            \(Self.broker)
            auditCheckpoints: shipped/checkpoints.jsonl
            auditCheckpointInterval: 5m
            """, file: "core.yaml", folder: Self.folder,
            environment: ["GOVBUS_CORE_SIGNING_KEY": "core-env:\(Self.seed)"])
        #expect(other.signingKey?.id == "core-env")
        #expect(other.signingKey?.seed == Self.seed)
        #expect(other.auditCheckpoints.path == "/etc/govbus/shipped/checkpoints.jsonl")
        #expect(other.auditCheckpointInterval == .seconds(300))

        #expect(try CoreConfiguration(Self.broker, file: "core.yaml", folder: Self.folder, environment: [:]).signingKey == nil)
    }

    @Test("A seed that is not 32 bytes of base64 is refused, naming the line")
    func badSeed() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try CoreConfiguration(
                """
                \(Self.broker)
                signingKey:
                  id: core-2026-01
                  seed: c2hvcnQ=
                """, file: "core.yaml", folder: Self.folder, environment: [:])
        }
        #expect(error?.description.contains("core.yaml:4") == true, "\(String(describing: error))")
        #expect(error?.description.contains("32-byte") == true)
        #expect(throws: ConfigurationError.self) {
            try CoreConfiguration(
                Self.broker, file: "core.yaml", folder: Self.folder, environment: ["GOVBUS_CORE_SIGNING_KEY": Self.seed])
        }
    }

    @Test("The routes file lists the core's keys, whose ids no one else may hold")
    func routesCoreKeys() throws {
        let knownTypes = Set(MessageCatalogue.all.map { $0.messageType })
        let key = try AuditCheckpoint.publicKey(ofSeed: Self.seed)
        let adapter = """
            adapters:
              portal:
                keys: {portal-1: \(key)}
                publishes: [portal.dossier.submitted.v1]
            """
        let routes = try RoutesFile(
            adapter + "\ncore:\n  keys: {core-1: \(key)}", file: "routes.yaml", knownTypes: knownTypes)
        #expect(routes.coreKeys == ["core-1": key])
        let error = #expect(throws: ConfigurationError.self) {
            try RoutesFile(adapter + "\ncore:\n  keys: {portal-1: \(key)}", file: "routes.yaml", knownTypes: knownTypes)
        }
        #expect(error?.description.contains("'portal-1'") == true, "\(String(describing: error))")
    }

    @Test("The sample routes file holds the public key of the sandbox core's seed")
    func sampleRoutes() throws {
        let routes = try RoutesFile(
            contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"),
            knownTypes: CoreFixtures.knownTypes)
        let sandboxSeed = "v1LUzCNC4DLeSM+1wWoso4dS//GnjXIpeNc9is4qAEo="  // sha256("govbus-sandbox-core")
        let expected = try AuditCheckpoint.publicKey(ofSeed: sandboxSeed)
        #expect(routes.coreKeys["core-sandbox"] == expected)
    }
}

@Suite("govbus audit verify --checkpoint")
struct AuditVerifyCheckpointCommandTests {
    func verify(_ path: String, _ file: URL, key: String) async throws -> (Int32, String) {
        let outcome = try await TestBroker.execute(
            AuditVerifyCommandTests.binary,
            ["audit", "verify", "--database", path, "--checkpoint", file.path, "--public-key", key])
        return (outcome.status, outcome.output)
    }

    @Test("Exit 0 when the checkpoints hold, 1 naming a truncation or a bad signature")
    func exitStatus() async throws {
        let tests = AuditCheckpointTests()
        let (log, path) = try tests.logs.makeLog(records: 5)
        let file = tests.checkpointsFile()
        try tests.sign(log).append(to: file)
        try tests.append(log, records: 2)
        let key = AuditCheckpointTests.keys[AuditCheckpointTests.keyID]!

        var (status, output) = try await verify(path, file, key: key)
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 checkpoints hold, up to record 5"), "\(output)")
        #expect(output.contains("2 records after it are not anchored"), "\(output)")

        let otherKey = try AuditCheckpoint.publicKey(ofSeed: Data(repeating: 1, count: 32).base64EncodedString())
        (status, output) = try await verify(path, file, key: otherKey)
        #expect(status == 1)
        #expect(output.contains("bad signature"), "\(output)")

        try tests.logs.tamper(path, "DELETE FROM audit_record WHERE sequence > 3")
        (status, output) = try await verify(path, file, key: key)
        #expect(status == 1)
        #expect(output.contains("truncated"), "\(output)")
    }
}
