import AMQP
import Foundation
import FuzzSupport
import GovBus
import GovBusCore

// The core's ingress checks (envelope, sender, signature, permission, schema) on a message built
// from the fuzz bytes (see FuzzEnvelope: properties, headers, body, optionally signed with a
// sandbox key so the checks after the signature are reached too).
//
// Invariants: nothing crashes; an accepted message names a known sender that may publish its
// type, a UUID message id and a body valid for its type; a body changed after signing is never
// accepted; a message the signer refuses (a line break in a signed value) is never accepted.

let coreUser = "govbus-core"

let checks: IngressChecks = {
    let catalog = FuzzEnvironment.catalog
    do {
        let routes = try RoutesFile(contentsOf: FuzzEnvironment.routesFile, knownTypes: Set(catalog.messageTypes))
        return try IngressChecks(routes: routes, catalog: catalog, coreUser: coreUser)
    } catch {
        fatalError("cannot load \(FuzzEnvironment.routesFile.path): \(error)")
    }
}()

/// Signs what the core verifies: the message as first sent (a forwarded copy names its sender in
/// `govbus-sender`), then puts the signature headers on the message as delivered.
func prepared(_ envelope: FuzzEnvelope) -> AMQPMessage? {
    guard let keyID = envelope.signWith else { return envelope.message }
    let seed = SandboxSeeds.byKeyID[keyID] ?? SandboxSeeds.stranger
    guard let signer = try? MessageSigner(keyID: keyID, base64Seed: seed),
        let signed = try? signer.sign(envelope.message.asFirstSent(coreUser: coreUser))
    else { return nil }
    var message = envelope.message
    var headers = message.properties.headers ?? [:]
    headers["govbus-key-id"] = signed.properties.headers?["govbus-key-id"]
    headers["govbus-signature"] = signed.properties.headers?["govbus-signature"]
    message.properties.headers = headers
    if let tamper = envelope.tamper { message.body += tamper }
    return message
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let envelope = FuzzEnvelope(fuzzBuffer(data, size))
    let message: AMQPMessage
    let unsignable: Bool
    if let signed = prepared(envelope) {
        message = signed
        unsignable = false
    } else {
        // The signer refused it: the core must refuse it too, whatever signature it carries.
        var headers = envelope.message.properties.headers ?? [:]
        headers["govbus-key-id"] = .string(envelope.signWith ?? "")
        headers["govbus-signature"] = .string(Data(repeating: 7, count: 64).base64EncodedString())
        var copy = envelope.message
        copy.properties.headers = headers
        message = copy
        unsignable = true
    }
    do {
        let accepted = try checks.check(message)
        let first = message.asFirstSent(coreUser: coreUser)
        if FuzzEnvironment.verbose { print("accepted \(accepted.type) from \(accepted.sender), key \(accepted.keyID)") }
        if unsignable { invariantBroken("a message the signer refuses was accepted") }
        if let tamper = envelope.tamper, !tamper.isEmpty, envelope.signWith != nil {
            invariantBroken("a body changed after signing was accepted")
        }
        guard accepted.sender == first.properties.userID, checks.routes.adapters[accepted.sender] != nil else {
            invariantBroken("accepted from '\(accepted.sender)', which is not the message's known sender")
        }
        guard checks.routes.allows(accepted.sender, toPublish: accepted.type) else {
            invariantBroken("'\(accepted.sender)' may not publish \(accepted.type), and it was accepted")
        }
        guard UUID(uuidString: accepted.messageID) != nil, !accepted.correlationID.isEmpty else {
            invariantBroken("accepted with message id '\(accepted.messageID)', correlation id '\(accepted.correlationID)'")
        }
        guard FuzzEnvironment.catalog.schema(for: accepted.type)?.isValid(accepted.body) == true else {
            invariantBroken("accepted a body its schema refuses")
        }
    } catch {
        if FuzzEnvironment.verbose { print("rejected: \(error)") }
        guard !error.reason.isEmpty else { invariantBroken("a rejection by \(error.check) with no reason") }
        // What the core then does with it: dead-letter it with the reason in headers.
        let dead = message.deadLettered(
            check: error.check.rawValue, reason: error.reason, where: "fuzz", at: Date(timeIntervalSince1970: 0))
        guard dead.properties.headers?["govbus-error-check"] == .string(error.check.rawValue) else {
            invariantBroken("the dead letter lost its check")
        }
    }
    return 0
}
