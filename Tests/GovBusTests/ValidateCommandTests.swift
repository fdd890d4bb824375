import AMQPTesting
import Foundation
import GovBusContracts
import Testing

/// `govbus validate` and `govbus schemas`, run as a person would run them.
@Suite("govbus validate and govbus schemas")
struct ValidateCommandTests {
    static let root = TestBroker.repositoryRoot
    static let examples = root.appendingPathComponent("Schemas/examples")

    func govbus(_ arguments: String...) async throws -> ChildProcess.Outcome {
        let binary = Self.root.appendingPathComponent(".build/debug/govbus").path
        return try await TestBroker.execute(
            binary, arguments, environment: ["GOVBUS_SCHEMAS": Self.root.appendingPathComponent("Schemas").path])
    }

    @Test("A valid file: exit 0")
    func valid() async throws {
        let outcome = try await govbus("validate", Self.examples.appendingPathComponent("payment.fee.paid.v1/valid-1.json").path)
        #expect(outcome.status == 0, "\(outcome.errors)")
        #expect(outcome.output.contains("valid payment.fee.paid.v1"))
    }

    @Test("An invalid file: exit 1, each error with its JSON Pointer")
    func invalid() async throws {
        let file = Self.examples.appendingPathComponent("portal.dossier.submitted.v1/invalid-personal-id-too-short.json")
        let outcome = try await govbus("validate", file.path, "--type", "portal.dossier.submitted.v1")
        #expect(outcome.status == 1)
        #expect(outcome.output.contains("/applicant/personalId"))
        #expect(outcome.output.contains("[pattern]"))
    }

    @Test("An unknown type: exit 2, saying so")
    func unknownType() async throws {
        let file = Self.examples.appendingPathComponent("payment.fee.paid.v1/valid-1.json")
        let outcome = try await govbus("validate", file.path, "--type", "payment.fee.stolen.v1")
        #expect(outcome.status == 2)
        #expect(outcome.errors.contains("unknown message type 'payment.fee.stolen.v1'"))
    }

    @Test("govbus schemas lists every type with its version")
    func schemas() async throws {
        let outcome = try await govbus("schemas")
        #expect(outcome.status == 0)
        #expect(outcome.output.contains("portal.dossier.submitted.v1"))
        // A header line, then one line a type: as many as the Swift catalogue has (connectors made with
        // govbus new-connector add theirs to both).
        #expect(outcome.output.split(separator: "\n").count == 1 + MessageCatalogue.all.count)
    }
}
