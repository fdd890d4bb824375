import AMQP
import Foundation
import FuzzSupport
import GovBus

// The canonical form of Schemas/README.md, and signing and verifying over it, on a message built
// from the fuzz bytes (see FuzzEnvelope; `sign=KEY-ID` names the key id, the key is fixed).
//
// Invariants: nothing crashes; the canonical bytes parse back as a line-based implementation in
// another language reads them (the fixed first line, the ten `name:value` lines in order with the
// message's values, an empty line, then exactly the body), with no carriage return before the
// body; what signs, verifies; a changed body, correlation id or timestamp breaks the signature;
// what cannot be signed is refused when verifying too, as a bad signature.

let seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
let publicKey = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let envelope = FuzzEnvelope(fuzzBuffer(data, size))
    var message = envelope.message
    if let tamper = envelope.tamper { message.body += tamper }
    let keyID = envelope.signWith ?? "fuzz-2026-01"
    // Headers the canonical form does not cover may be anything, but not these two.
    message.properties.headers?["govbus-key-id"] = nil
    message.properties.headers?["govbus-signature"] = nil
    guard let signer = try? MessageSigner(keyID: keyID, base64Seed: seed),
        let verifier = try? SignatureVerifier(base64Keys: [keyID: publicKey])
    else { invariantBroken("the fixed key does not load") }

    let canonical: [UInt8]
    do {
        canonical = try CanonicalForm.bytes(of: message, keyID: keyID)
    } catch {
        // Unsignable: the signer refuses it, and so does the verifier, whatever the signature.
        if (try? signer.sign(message)) != nil { invariantBroken("signed what has no canonical form: \(error)") }
        var forged = message
        forged.properties.headers = (forged.properties.headers ?? [:]).merging([
            "govbus-key-id": .string(keyID),
            "govbus-signature": .string(Data(repeating: 1, count: 64).base64EncodedString()),
        ]) { $1 }
        do {
            try verifier.verify(forged)
            invariantBroken("verified what has no canonical form")
        } catch {
            guard case .malformedSignature = error else { invariantBroken("unsignable refused as \(error), not malformed") }
        }
        return 0
    }
    checkLines(canonical, of: message, keyID: keyID)

    // Sign, verify, and break it.
    let signed: AMQPMessage
    do {
        signed = try signer.sign(message)
    } catch {
        invariantBroken("the canonical form was built but signing failed: \(error)")
    }
    do {
        guard try verifier.verify(signed) == keyID else { invariantBroken("verified under another key id") }
    } catch {
        invariantBroken("a signed message does not verify: \(error)")
    }
    var body = signed
    if body.body.isEmpty { body.body = [0x20] } else { body.body[body.body.count / 2] ^= 0x01 }
    var correlation = signed
    correlation.properties.correlationID = (signed.properties.correlationID ?? "") + "0"
    var forgeries = [body, correlation]
    // A timestamp one second off (where a Double still tells the seconds apart, below 2^53).
    if let seconds = signed.properties.timestamp?.timeIntervalSince1970, seconds < 9_007_199_254_740_000 {
        var timestamp = signed
        timestamp.properties.timestamp = Date(timeIntervalSince1970: seconds.rounded(.down) + 1)
        forgeries.append(timestamp)
    }
    for forged in forgeries {
        do {
            try verifier.verify(forged)
            invariantBroken("a changed message still verifies")
        } catch {
            guard case .mismatch = error else { invariantBroken("a changed message refused as \(error), not a mismatch") }
        }
    }
    return 0
}

/// Reads the canonical bytes as an implementation splitting lines on "\n" does.
func checkLines(_ canonical: [UInt8], of message: AMQPMessage, keyID: String) {
    guard canonical.count >= message.body.count, Array(canonical.suffix(message.body.count)) == message.body else {
        invariantBroken("the canonical form does not end with the body")
    }
    let head = canonical.dropLast(message.body.count)
    guard head.suffix(2) == [0x0A, 0x0A] else { invariantBroken("no empty line before the body") }
    if head.contains(0x0D) {
        // A CR can only come from a value the line-break check let through: "\r\n" is one Swift
        // Character, so a check on Characters missed it (found by this target, fixed since).
        invariantBroken("a carriage return in the canonical form (a signed value holds \"\\r\\n\"), which Schemas/README.md refuses")
    }
    let lines = head.dropLast(2).split(separator: 0x0A, omittingEmptySubsequences: false)
    guard lines.count == 11 else {
        invariantBroken("the canonical form has \(lines.count) lines before the body, not 11: a value holds a line feed")
    }
    let properties = message.properties
    let expected: [(String, String?)] = [
        ("message-id", properties.messageID), ("correlation-id", properties.correlationID), ("type", properties.type),
        ("content-type", properties.contentType), ("timestamp", nil), ("app-id", properties.appID),
        ("user-id", properties.userID), ("causation-id", properties.headers?["govbus-causation-id"]?.stringValue),
        ("key-id", keyID), ("body-length", String(message.body.count)),
    ]
    guard Array(lines[0]) == Array("govbus-signature-v1".utf8) else { invariantBroken("wrong first line") }
    for ((name, value), line) in zip(expected, lines.dropFirst()) {
        let prefix = Array((name + ":").utf8)
        guard line.starts(with: prefix) else { invariantBroken("expected the \(name) line") }
        let written = Array(line.dropFirst(prefix.count))
        if name == "timestamp" {
            // Whole seconds, decimal, no sign, no leading zero; empty when absent; `out-of-range`
            // past what an Int64 holds (a u64 from the wire, which no other signer writes so).
            let seconds = properties.timestamp.map { $0.timeIntervalSince1970.rounded(.down) }
            if let seconds, Int64(exactly: seconds) == nil {
                guard written == Array("out-of-range".utf8) else {
                    invariantBroken("timestamp \(seconds) written as '\(String(decoding: written, as: UTF8.self))'")
                }
                continue
            }
            guard seconds != nil || written.isEmpty,
                written.allSatisfy({ (0x30...0x39).contains($0) }),
                written.count <= 1 || written.first != 0x30
            else { invariantBroken("timestamp written as '\(String(decoding: written, as: UTF8.self))'") }
        } else if written != Array((value ?? "").utf8) {
            invariantBroken("the \(name) line does not hold the value as it is")
        }
    }
}
