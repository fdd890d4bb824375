import GovBusContracts
import Crypto
import Foundation
import GovBus

/// How the portal and the adapter authenticate each other's requests: `X-Portal-Signature:
/// sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`.
enum PortalSignature {
    static let header = "X-Portal-Signature"

    static func sign(_ body: Data, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + code.lowercaseHex
    }

    /// Compared in constant time: a timing difference would tell an attacker how much was right.
    static func isValid(_ signature: String?, for body: Data, secret: String) -> Bool {
        guard let signature else { return false }
        let expected = Array(sign(body, secret: secret).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
