import Crypto
import Foundation
import GovBusContracts

/// How the sandbox gateway signs and checks, as VNPay does (the merchant has its own code for the
/// same rules): HMAC-SHA512 in hex with the merchant's hash secret, over the `vnp_*` parameters with
/// a value, but `vnp_SecureHash` and `vnp_SecureHashType`, sorted by name, each
/// `urlencode(name)=urlencode(value)`, joined with `&`; the web API over its fields joined with `|`.
enum GatewaySignature {
    /// RFC 3986 unreserved characters, the only ones form encoding leaves as they are.
    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func urlencode(_ text: String) -> String {
        // Spaces are percent-encoded like any reserved character, then written as `+`.
        (text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "").replacingOccurrences(of: "%20", with: "+")
    }

    static func urldecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// A form-encoded query's parameters; nil when it is not readable or names a parameter twice.
    static func parameters(ofQuery query: String) -> [String: String]? {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let encodedName: Substring
            let encodedValue: Substring
            if let equals = pair.firstIndex(of: "=") {
                encodedName = pair[..<equals]
                encodedValue = pair[pair.index(after: equals)...]
            } else {
                encodedName = pair
                encodedValue = ""
            }
            guard let name = urldecode(encodedName), let value = urldecode(encodedValue), parameters[name] == nil
            else { return nil }
            parameters[name] = value
        }
        return parameters
    }

    static func signedText(_ parameters: [String: String]) -> String {
        var pairs: [String] = []
        for name in parameters.keys.sorted() where name.hasPrefix("vnp_") {
            guard name != "vnp_SecureHash", name != "vnp_SecureHashType", let value = parameters[name], !value.isEmpty
            else { continue }
            pairs.append(urlencode(name) + "=" + urlencode(value))
        }
        return pairs.joined(separator: "&")
    }

    static func hmac(_ text: String, secret: String) -> String {
        HMAC<SHA512>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: Array(secret.utf8)))
            .lowercaseHex
    }

    /// The query of a signed call: what is signed, then `vnp_SecureHash`.
    static func signedQuery(_ parameters: [String: String], secret: String) -> String {
        let text = signedText(parameters)
        return text + "&vnp_SecureHash=" + hmac(text, secret: secret)
    }

    static func verify(_ parameters: [String: String], secret: String) -> Bool {
        guard let hash = parameters["vnp_SecureHash"] else { return false }
        return hash.lowercased() == hmac(signedText(parameters), secret: secret)
    }

    /// The hash of a merchant web API call or answer: its fields in VNPay's order, joined with `|`.
    static func apiHash(_ fields: [String], secret: String) -> String {
        hmac(fields.joined(separator: "|"), secret: secret)
    }
}
