import AMQP
import AMQPTesting
import Crypto
import Foundation
import GovBus
import Testing

@Suite("Message signatures")
struct MessageSigningTests {
    static let schemas = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas")

    struct Vector: Decodable {
        struct Properties: Decodable {
            let messageId: String?
            let correlationId: String?
            let type: String?
            let contentType: String?
            let timestamp: Int?
            let appId: String?
            let userId: String?
            let causationId: String?
        }

        let description: String
        let keyId: String
        let privateKeySeed: String
        let publicKey: String
        let properties: Properties
        let body: String
        let canonical: String
        let signature: String

        var message: AMQPMessage {
            var headers: AMQPTable = [:]
            if let causation = properties.causationId { headers["govbus-causation-id"] = .string(causation) }
            return AMQPMessage(
                body, properties: AMQPProperties(
                    contentType: properties.contentType, headers: headers.isEmpty ? nil : headers,
                    correlationID: properties.correlationId, messageID: properties.messageId,
                    timestamp: properties.timestamp.map { Date(timeIntervalSince1970: Double($0)) },
                    type: properties.type, userID: properties.userId, appID: properties.appId))
        }
    }

    static func vectors() throws -> [Vector] {
        try JSONDecoder().decode(
            [Vector].self, from: Data(contentsOf: schemas.appendingPathComponent("signing-test-vectors.json")))
    }

    @Test("The test vectors of Schemas/: same canonical bytes, same signature, and it verifies")
    func testVectors() throws {
        let vectors = try Self.vectors()
        #expect(vectors.count >= 3)
        for vector in vectors {
            let message = vector.message
            let canonical = try CanonicalForm.bytes(of: message, keyID: vector.keyId)
            #expect(Data(canonical).base64EncodedString() == vector.canonical, "\(vector.description)")
            let signer = try MessageSigner(keyID: vector.keyId, base64Seed: vector.privateKeySeed)
            #expect(signer.publicKey.rawRepresentation.base64EncodedString() == vector.publicKey)
            let signed = try signer.sign(message)
            #expect(signed.properties.headers?["govbus-signature"] == .string(vector.signature), "\(vector.description)")
            #expect(signed.properties.headers?["govbus-key-id"] == .string(vector.keyId))
            let verifier = try SignatureVerifier(base64Keys: [vector.keyId: vector.publicKey])
            #expect(try verifier.verify(signed) == vector.keyId)
        }
    }

    @Test("A changed body, type, correlation id or key id breaks the signature")
    func tampering() throws {
        let vector = try #require(try Self.vectors().first)
        let signer = try MessageSigner(keyID: vector.keyId, base64Seed: vector.privateKeySeed)
        let verifier = try SignatureVerifier(base64Keys: [vector.keyId: vector.publicKey])
        let signed = try signer.sign(vector.message)
        var body = signed
        body.body[body.body.count - 2] ^= 1
        var type = signed
        type.properties.type = "payment.fee.paid.v1"
        var correlation = signed
        correlation.properties.correlationID = "G22.99-251121-0002"
        for forged in [body, type, correlation] {
            #expect(throws: SignatureError.mismatch(vector.keyId)) { try verifier.verify(forged) }
        }
        var otherKey = signed
        otherKey.properties.headers?["govbus-key-id"] = "someone-else"
        #expect(throws: SignatureError.unknownKey("someone-else")) { try verifier.verify(otherKey) }
        var unsigned = vector.message
        unsigned.properties.headers = nil
        #expect(throws: SignatureError.missing("the message has no govbus-key-id header")) { try verifier.verify(unsigned) }
        // Headers outside the canonical form (retries, trace context) may change freely.
        var retried = signed
        retried.properties.headers?["govbus-attempt"] = .int32(3)
        retried.properties.headers?["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(try verifier.verify(retried) == vector.keyId)
    }

    /// What verifying a negative vector must give: `error` (a case of SignatureError) with its
    /// `detail`, or `valid` for a message that is the same as the signed one.
    struct NegativeExpectation: Decodable {
        struct Expect: Decodable {
            let error: String?
            let detail: String?
            let valid: Bool?
        }

        let expect: Expect

        var error: SignatureError? {
            switch (expect.error, expect.detail) {
            case ("mismatch", let detail?): .mismatch(detail)
            case ("unknownKey", let detail?): .unknownKey(detail)
            case ("malformedSignature", let detail?): .malformedSignature(detail)
            case ("missing", let detail?): .missing(detail)
            default: nil
            }
        }
    }

    static let negativeVectorsFile = schemas.appendingPathComponent("signing-negative-test-vectors.json")

    @Test("The negative vectors of Schemas/: each fails with its expected error, or verifies when it is the same message")
    func negativeVectors() throws {
        let data = try Data(contentsOf: Self.negativeVectorsFile)
        let vectors = try JSONDecoder().decode([Vector].self, from: data)
        let expectations = try JSONDecoder().decode([NegativeExpectation].self, from: data)
        #expect(vectors.count >= 6)
        for (vector, expectation) in zip(vectors, expectations) {
            // The vector holds together: its signature is over its canonical bytes, with its private key.
            let signer = try MessageSigner(keyID: vector.keyId, base64Seed: vector.privateKeySeed)
            let signature = try #require(Data(base64Encoded: vector.signature))
            let canonical = try #require(Data(base64Encoded: vector.canonical))
            #expect(signer.publicKey.isValidSignature(signature, for: canonical), "\(vector.description)")

            var received = vector.message
            received.properties.headers = (received.properties.headers ?? [:]).merging([
                "govbus-key-id": .string(vector.keyId), "govbus-signature": .string(vector.signature),
            ]) { $1 }
            let verifier = try SignatureVerifier(base64Keys: [vector.keyId: vector.publicKey])
            if expectation.expect.valid == true {
                #expect(
                    Data(try CanonicalForm.bytes(of: received, keyID: vector.keyId)).base64EncodedString() == vector.canonical,
                    "\(vector.description)")
                #expect(try verifier.verify(received) == vector.keyId, "\(vector.description)")
                continue
            }
            let expected = try #require(expectation.error, "\(vector.description): no expected error")
            #expect(throws: expected, "\(vector.description)") { try verifier.verify(received) }
        }
    }

    @Test("Python's reference implementation fails the negative vectors as they say")
    func pythonNegativeVectors() async throws {
        let script = Self.schemas.appendingPathComponent("reference/govbus_signing.py").path
        // Exits non-zero (and runProcess throws) when a vector does not behave as it says.
        let output = try await TestBroker.runProcess(
            "/usr/bin/env", ["python3", script, "check-negative"], input: try Data(contentsOf: Self.negativeVectorsFile))
        #expect(output.contains("negative vectors behave as expected"))
    }

    @Test("Python's reference implementation, written from Schemas/README.md, signs what Swift verifies")
    func pythonInterop() async throws {
        let seed = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        let message = """
            {"properties": {"messageId": "\(UUID().uuidString.lowercased())", "correlationId": "G22.99-251121-0042",
             "type": "payment.fee.paid.v1", "contentType": "application/json", "timestamp": 1763712345,
             "appId": "payment-adapter", "userId": "payment", "causationId": "\(UUID().uuidString.lowercased())"},
             "body": "{\\"amount\\": 50000, \\"note\\": \\"Lệ phí\\"}"}
            """
        let script = Self.schemas.appendingPathComponent("reference/govbus_signing.py").path
        let pythonSignature = try await TestBroker.runProcess(
            "/usr/bin/env", ["python3", script, "sign", seed.base64EncodedString(), "payment-2026-01"],
            input: Data(message.utf8)
        ).trimmingCharacters(in: .whitespacesAndNewlines)

        struct Wrapper: Decodable { let properties: Vector.Properties; let body: String }
        let wrapper = try JSONDecoder().decode(Wrapper.self, from: Data(message.utf8))
        let vector = Vector(
            description: "python", keyId: "payment-2026-01", privateKeySeed: seed.base64EncodedString(),
            publicKey: "", properties: wrapper.properties, body: wrapper.body, canonical: "", signature: "")
        let signer = try MessageSigner(keyID: "payment-2026-01", base64Seed: seed.base64EncodedString())
        let signed = try signer.sign(vector.message)
        #expect(signed.properties.headers?["govbus-signature"] == .string(pythonSignature))
    }
}
