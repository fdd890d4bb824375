import AMQP
import Foundation
import GovBus
import CoreTestFixtures
import Testing

@testable import GovBusCore

/// The short fuzzing round CI runs: random mutations of the examples of Schemas/ and of the fuzz
/// seeds, through the ingress checks, the canonical form, the JSON reader and the validator. Not
/// coverage-guided (that is `scripts/fuzz`, libFuzzer over an instrumented build, too long to
/// build for every CI run); what it proves is that none of these inputs traps. A trap ends the test
/// process, so CI fails. The generator is seeded: `GOVBUS_FUZZ_SEED` replays a run.
@Suite("A short fuzzing round over what a sender controls")
struct MutationFuzzTests {
    static let rounds = Int(ProcessInfo.processInfo.environment["GOVBUS_FUZZ_ROUNDS"] ?? "") ?? 20_000

    /// SplitMix64: the same seed, the same inputs.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static var seed: UInt64 { UInt64(ProcessInfo.processInfo.environment["GOVBUS_FUZZ_SEED"] ?? "") ?? 20_261_202 }

    /// Every example body of Schemas/examples, valid and invalid.
    static let examples: [(type: String, body: [UInt8])] = {
        let folder = CoreFixtures.repository.appendingPathComponent("Schemas/examples")
        var found: [(String, [UInt8])] = []
        for type in (try? FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()) ?? [] {
            let typeFolder = folder.appendingPathComponent(type)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: typeFolder.path).sorted()) ?? [] {
                if let data = try? Data(contentsOf: typeFolder.appendingPathComponent(file)) { found.append((type, Array(data))) }
            }
        }
        return found
    }()

    static func mutate(_ input: [UInt8], _ random: inout Generator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3: bytes.insert(contentsOf: Array("[{\"\\u0000\":1e999,-0,\"\\ud800\"}]".utf8).shuffled(using: &random), at: position)
            case 4 where !bytes.isEmpty: bytes = Array(bytes.prefix(position))
            case 5: bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "["), count: Int.random(in: 1...2000, using: &random)), at: position)
            default:
                let other = examples.randomElement(using: &random)?.body ?? []
                bytes.insert(contentsOf: other.prefix(Int.random(in: 0...max(0, other.count), using: &random)), at: position)
            }
        }
        return bytes
    }

    static func fieldValue(_ random: inout Generator) -> AMQPFieldValue {
        switch Int.random(in: 0..<9, using: &random) {
        case 0: .int64(Int64.random(in: .min ... .max, using: &random))
        case 1: .int32(Int32.random(in: .min ... .max, using: &random))
        case 2: .string(String(decoding: (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }, as: UTF8.self))
        case 3: .bytes((0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        case 4: .double(Double(bitPattern: random.next()))
        case 5: .timestamp(Date(timeIntervalSince1970: Double(random.next())))
        case 6: .table(["x": .void, "y": .array([.bool(true), .uint8(7)])])
        case 7: .string(UUID().uuidString.lowercased())
        default: .void
        }
    }

    @Test("Mutated messages through the ingress checks and the canonical form: refused or accepted, never a trap")
    func ingressChecks() throws {
        let checks = try CoreFixtures.checks()
        let signer = try CoreFixtures.sandboxSigner("portal")
        var random = Generator(state: Self.seed)
        var outcomes: [String: Int] = [:]
        let names = ["govbus-causation-id", "govbus-key-id", "govbus-signature", "govbus-attempt", "traceparent", "x-death"]
        for _ in 0..<Self.rounds {
            let (type, body) = try #require(Self.examples.randomElement(using: &random))
            var message = AMQPMessage(
                body: Bool.random(using: &random) ? body : Self.mutate(body, &random),
                properties: AMQPProperties(
                    contentType: "application/json", deliveryMode: .persistent,
                    correlationID: Bool.random(using: &random) ? "H01.04-251121-0007" : String(decoding: Self.mutate(Array("H01".utf8), &random), as: UTF8.self),
                    messageID: UUID().uuidString.lowercased(),
                    timestamp: Date(timeIntervalSince1970: Double(random.next() >> UInt64.random(in: 0...63, using: &random))),
                    type: Bool.random(using: &random) ? type : "portal.dossier.submitted.v1", userID: "portal", appID: "portal-adapter"))
            if Bool.random(using: &random) { message = (try? signer.sign(message)) ?? message }
            for _ in 0..<Int.random(in: 0...2, using: &random) {
                let name = names.randomElement(using: &random)!
                message.properties.headers = (message.properties.headers ?? [:]).merging([name: Self.fieldValue(&random)]) { $1 }
            }
            _ = try? CanonicalForm.bytes(of: message, keyID: "portal-sandbox")
            do {
                _ = try checks.check(message)
                outcomes["accepted", default: 0] += 1
            } catch {
                outcomes[error.check.rawValue, default: 0] += 1
            }
        }
        print("mutation fuzzing, ingress: \(Self.rounds) messages, seed \(Self.seed): \(outcomes.sorted { $0.key < $1.key })")
        // The round reached past the signature, or it tested little.
        #expect(outcomes.values.reduce(0, +) == Self.rounds)
        #expect((outcomes["schema"] ?? 0) + (outcomes["accepted"] ?? 0) + (outcomes["correlation"] ?? 0) > 0, "\(outcomes)")
    }

    @Test("Mutated JSON through the reader and every schema of the catalogue: an error or a verdict, never a trap")
    func readerAndValidator() throws {
        let catalog = try CoreFixtures.catalog.get()
        var random = Generator(state: Self.seed &+ 1)
        var parsed = 0
        for _ in 0..<Self.rounds {
            let (type, body) = try #require(Self.examples.randomElement(using: &random))
            let mutated = Self.mutate(body, &random)
            guard let value = try? JSONValue(parsing: Data(mutated)) else { continue }
            parsed += 1
            _ = catalog.schema(for: type)?.validate(value)
            _ = catalog.schema(for: catalog.messageTypes.randomElement(using: &random) ?? type)?.validate(value)
        }
        #expect(parsed > 0)
    }
}
