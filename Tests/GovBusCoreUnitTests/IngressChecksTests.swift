import AMQP
import Crypto
import Foundation
import GovBus
import GovBusContracts
import CoreTestFixtures
import Testing

@testable import GovBusCore

@Suite("Ingress checks, without a broker")
struct IngressChecksTests {
    func rejection(_ message: AMQPMessage) throws -> IngressChecks.Rejection? {
        do {
            _ = try CoreFixtures.checks().check(message)
            return nil
        } catch let rejection as IngressChecks.Rejection {
            return rejection
        }
    }

    @Test("A well-formed, signed, permitted, valid message passes")
    func accepted() throws {
        let accepted = try CoreFixtures.checks().check(try CoreFixtures.message())
        #expect(accepted.sender == "portal")
        #expect(accepted.keyID == "portal-sandbox")
        #expect(accepted.type == "portal.dossier.submitted.v1")
    }

    @Test("Envelope: message id, type, correlation id, content type, size")
    func envelope() throws {
        let cases: [(String, (inout AMQPMessage) -> Void)] = [
            ("message_id", { $0.properties.messageID = nil }),
            ("message_id", { $0.properties.messageID = "not-a-uuid" }),
            ("type", { $0.properties.type = nil }),
            ("correlation_id", { $0.properties.correlationID = nil }),
            ("content_type", { $0.properties.contentType = "text/plain" }),
            ("bytes", { $0.body = Array(repeating: 0x20, count: 70_000) }),
        ]
        for (words, edit) in cases {
            let rejection = try #require(try rejection(try CoreFixtures.message(edit: edit)))
            #expect(rejection.check == .envelope)
            #expect(rejection.reason.contains(words), "\(rejection)")
        }
    }

    @Test("Sender and signature: unknown user, forged, missing, or another adapter's key")
    func senderAndSignature() throws {
        #expect(try rejection(try CoreFixtures.message(sender: "mallory"))?.check == .sender)
        // Signed, then changed: the signature no longer matches.
        var forged = try CoreFixtures.message()
        forged.body[forged.body.count - 3] ^= 1
        let mismatch = try #require(try rejection(forged))
        #expect(mismatch.check == .signature)
        #expect(mismatch.reason.contains("does not match"))
        #expect(try rejection(try CoreFixtures.message(signWith: nil))?.check == .signature)
        // The registry's key on a message the portal sent.
        let stolenKey = try #require(try rejection(try CoreFixtures.message(signWith: "registry")))
        #expect(stolenKey.check == .signature)
        #expect(stolenKey.reason.contains("not a key of 'portal'"))
        // A key nobody configured.
        var unknown = try CoreFixtures.message(signWith: nil)
        let stranger = MessageSigner(keyID: "stranger", privateKey: Curve25519.Signing.PrivateKey())
        unknown = try stranger.sign(unknown)
        #expect(try rejection(unknown)?.reason.contains("unknown signing key") == true)
    }

    @Test("Permission: an adapter publishing a type the routes file does not give it")
    func permission() throws {
        let rejection = try #require(try rejection(try CoreFixtures.message(type: "payment.fee.paid.v1")))
        #expect(rejection.check == .permission)
        #expect(rejection.reason.contains("'portal' may not publish payment.fee.paid.v1"))
    }

    @Test("Schema: an invalid body names the field and the rule")
    func schema() throws {
        let rejection = try #require(try rejection(try CoreFixtures.message(example: "invalid-personal-id-too-short.json")))
        #expect(rejection.check == .schema)
        #expect(rejection.reason.contains("/applicant/personalId"))
        #expect(rejection.reason.contains("pattern"))
    }

    @Test("A dead letter keeps the message and says which check failed, why, where and when")
    func deadLetter() throws {
        let original = try CoreFixtures.message()
        let dead = original.deadLettered(
            check: "schema", reason: "bad", where: "core", at: Date(timeIntervalSince1970: 1_763_700_000))
        #expect(dead.body == original.body)
        #expect(dead.properties.messageID == original.properties.messageID)
        #expect(dead.properties.headers?["govbus-error-check"] == "schema")
        #expect(dead.properties.headers?["govbus-error-reason"] == "bad")
        #expect(dead.properties.headers?["govbus-error-where"] == "core")
        #expect(dead.properties.headers?["govbus-error-at"] == "2025-11-21T04:40:00Z")
        #expect(dead.properties.headers?["govbus-signature"] == original.properties.headers?["govbus-signature"])
    }

    @Test("A copy the core forwarded (a retry) names its first sender, and its signature still holds")
    func forwardedCopy() throws {
        let original = try CoreFixtures.message()
        let forwarded = original.forwarded(byCore: "core")
        #expect(forwarded.properties.userID == "core")
        #expect(forwarded.properties.headers?["govbus-sender"] == "portal")
        let catalog = try CoreFixtures.catalog.get()
        let routes = try RoutesFile(
            contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"), knownTypes: Set(catalog.messageTypes))
        let checks = try IngressChecks(routes: routes, catalog: catalog, coreUser: "core")
        #expect(try checks.check(forwarded).sender == "portal")
        // An adapter cannot pass itself off as another through the header: only the core's copies
        // may carry it, and on an adapter's message it is refused.
        var spoof = try CoreFixtures.message()
        spoof.properties.headers?["govbus-sender"] = "registry"
        #expect(throws: IngressChecks.Rejection(check: .envelope, reason: "header 'govbus-sender' is written by the core only")) {
            try checks.check(spoof)
        }
    }

    @Test("Headers only the core writes are refused on an adapter's message, whatever their value or case")
    func coreOnlyHeaders() throws {
        let values: [AMQPFieldValue] = [.int32(0), .int32(-1), .int64(.max), .string("x"), .bytes([0, 0xff]), .bool(true)]
        for name in ["govbus-attempt", "govbus-sender", "govbus-edited-by", "govbus-replay-to", "govbus-error-check", "Govbus-Attempt", "x-death"] {
            for value in values {
                let rejection = try #require(try rejection(try CoreFixtures.message { $0.properties.headers = [name: value] }))
                #expect(rejection.check == .envelope)
                #expect(rejection.reason.contains("written by the core only"), "\(rejection)")
            }
        }
    }

    @Test("govbus-causation-id, when present, is the UUID of a message")
    func causation() throws {
        for value: AMQPFieldValue in [.int64(7), .string("not-a-uuid"), .string(""), .bytes([1, 2])] {
            let rejection = try #require(try rejection(try CoreFixtures.message { $0.properties.headers = ["govbus-causation-id": value] }))
            #expect(rejection.check == .envelope)
        }
        let answering = UUID().uuidString.lowercased()
        let accepted = try CoreFixtures.checks().check(try CoreFixtures.message { $0.properties.headers = ["govbus-causation-id": .string(answering)] })
        #expect(accepted.causationID == answering)
    }

    @Test("A timestamp past what an Int64 holds (a u64 from the wire) fails the signature, and traps nowhere")
    func hugeTimestamp() throws {
        for seconds in [Double(UInt64.max), 1e19, 9.3e18] {
            var message = try CoreFixtures.message()
            message.properties.timestamp = Date(timeIntervalSince1970: seconds)
            let rejection = try #require(try rejection(message))
            #expect(rejection.check == .signature)
            // Forwarded and dead-lettered as it is: its properties still encode for the wire.
            #expect(message.forwarded(byCore: "core").properties.timestamp == message.properties.timestamp)
        }
    }

    @Test("A line break inside a signed property, \\r\\n included, cannot be signed")
    func lineBreaks() throws {
        for value in ["a\nb", "a\rb", "a\r\nb"] {
            var message = try CoreFixtures.message(signWith: nil)
            message.properties.appID = value
            #expect(throws: CanonicalForm.Unsignable.self) { try CanonicalForm.bytes(of: message, keyID: "k") }
        }
    }

    @Test("Correlation: correlation_id must be the body's dossier")
    func correlationID() throws {
        let rejection = try #require(try rejection(try CoreFixtures.message { $0.properties.correlationID = "H01.04-251121-9999" }))
        #expect(rejection.check == .correlation)
        #expect(rejection.reason.contains("dossierId"))
    }

    @Test("An edited replay through the core's user passes with the operators' key, and with nothing else")
    func editedReplay() throws {
        let catalog = try CoreFixtures.catalog.get()
        let routes = try RoutesFile(
            contentsOf: CoreFixtures.repository.appendingPathComponent("config/routes.yaml"), knownTypes: Set(catalog.messageTypes))
        let checks = try IngressChecks(routes: routes, catalog: catalog, coreUser: "core")
        let console = try MessageSigner(
            keyID: "console-sandbox", base64Seed: Data(SHA256.hash(data: Data("govbus-sandbox-console".utf8))).base64EncodedString())
        var edited = try CoreFixtures.message(signWith: nil)
        edited.body = Array(
            try Data(contentsOf: CoreFixtures.repository.appendingPathComponent("Schemas/examples/portal.dossier.submitted.v1/valid-2.json")))
        edited.properties.headers = [BusHeader.editedBy: .string("lan")]
        edited.properties.correlationID = "G22.99-251121-0001"
        let accepted = try checks.check(try console.sign(edited).forwarded(byCore: "core"))
        #expect(accepted.sender == "portal")
        #expect(accepted.keyID == "console-sandbox")

        // The sender's own key does not sign an edit; nor does the operators' key sign anything else.
        let byPortal = try CoreFixtures.sandboxSigner("portal").sign(edited).forwarded(byCore: "core")
        #expect(throws: IngressChecks.Rejection.self) { try checks.check(byPortal) }
        var notEdited = edited
        notEdited.properties.headers = [:]
        #expect(throws: IngressChecks.Rejection.self) { try checks.check(try console.sign(notEdited).forwarded(byCore: "core")) }
        // An adapter cannot claim an edit: the header counts only on the core's copies.
        #expect(throws: IngressChecks.Rejection.self) { try checks.check(try console.sign(edited)) }
    }
}
