import Crypto
public import Foundation
import GovBusContracts

/// How the portal and its adapter authenticate each other's requests: `X-Portal-Signature:
/// sha256=<hex HMAC-SHA256 of the raw body with the shared secret>`. Both ends use this type.
public enum PortalSignature {
    public static let header = "X-Portal-Signature"
    static let scheme = "sha256="

    public static func sign(_ body: Data, secret: String) -> String {
        scheme + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).lowercaseHex
    }

    /// swift-crypto checks the code in constant time: a timing difference would tell an attacker
    /// how much of a forged signature was right.
    public static func isValid(_ signature: String?, for body: Data, secret: String) -> Bool {
        guard let signature, signature.hasPrefix(scheme), let code = [UInt8](hex: signature.dropFirst(scheme.count)) else {
            return false
        }
        return HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
    }
}
