import AMQPTesting
import Foundation
import Testing

@Suite("AsyncAPI description of the bus")
struct AsyncAPITests {
    @Test("Schemas/asyncapi.yaml passes scripts/check-asyncapi (the AsyncAPI 3.0 model of asyncapi3 from PyPI, and every reference resolves)")
    func valid() async throws {
        let output = try await TestBroker.run(script: "check-asyncapi", arguments: [])
        #expect(output.contains("is valid"))
    }

    @Test("A broken copy is refused, naming what is wrong")
    func broken() async throws {
        let original = try String(
            contentsOf: TestBroker.repositoryRoot.appendingPathComponent("Schemas/asyncapi.yaml"), encoding: .utf8)
        let broken = original.replacingOccurrences(of: "asyncapi: 3.0.0", with: "asyncapi: 2.6.0")
        #expect(broken != original)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("asyncapi-\(UUID().uuidString).yaml")
        try broken.write(to: copy, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: copy) }
        await #expect(throws: (any Error).self) {
            try await TestBroker.run(script: "check-asyncapi", arguments: [copy.path])
        }
    }
}
