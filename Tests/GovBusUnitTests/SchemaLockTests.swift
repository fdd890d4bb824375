import Crypto
import Foundation
import Testing

/// Published schemas are locked by their sha256 in Schemas/schemas.lock: changing one is a new
/// version beside it, never an edit.
@Suite("Published schemas do not change")
struct SchemaLockTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    @Test("Every schema is locked and still has its locked hash")
    func locked() throws {
        let lock = try String(contentsOf: Self.schemas.appendingPathComponent("schemas.lock"), encoding: .utf8)
        var locked: [String: String] = [:]
        for line in lock.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else {
                Issue.record("schemas.lock: malformed line '\(line)'")
                continue
            }
            locked[String(parts[1])] = String(parts[0])
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemas.path)
            .filter { $0.hasSuffix(".schema.json") }
        for file in files {
            guard let expected = locked[file] else {
                Issue.record("\(file) is not locked: run scripts/lock-schemas when it is published")
                continue
            }
            let digest = SHA256.hash(data: try Data(contentsOf: Self.schemas.appendingPathComponent(file)))
            let actual = digest.map { String(format: "%02x", $0) }.joined()
            #expect(
                actual == expected,
                "\(file) changed after it was published: publish the change as a new version (e.g. .v2) beside it, as Schemas/README.md says")
        }
        for file in locked.keys where !files.contains(file) {
            Issue.record("\(file) was published and is gone: published versions stay")
        }
    }
}
