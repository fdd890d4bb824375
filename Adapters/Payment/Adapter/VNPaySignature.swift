import Crypto
import Foundation
import GovBus
import GovBusContracts

/// VNPay's signatures as a merchant makes and checks them: HMAC-SHA512 with the merchant's hash
/// secret, in lower-case hex. A payment URL or an IPN call signs its `vnp_*` parameters sorted by
/// name, each `name=value` form-encoded, joined with `&`; the merchant web API (refunds) signs its
/// fields joined with `|` in the order VNPay documents.
enum VNPaySignature {
    /// The parameters that carry the signature and are not signed themselves.
    static let signatureParameters: Set<String> = ["vnp_SecureHash", "vnp_SecureHashType"]

    /// What a query signs: the `vnp_*` parameters with a value, but the signature, sorted by name.
    static func hashData(_ parameters: [String: String]) -> String {
        parameters
            .filter { name, value in name.hasPrefix("vnp_") && !signatureParameters.contains(name) && !value.isEmpty }
            .sorted { $0.key < $1.key }
            .map { formEncode($0.key) + "=" + formEncode($0.value) }
            .joined(separator: "&")
    }

    /// A payment URL's query: the signed parameters, then `vnp_SecureHash`.
    static func signedQuery(_ parameters: [String: String], secret: String) -> String {
        let data = hashData(parameters)
        return data + "&vnp_SecureHash=" + hash(data, secret: secret)
    }

    /// Whether `vnp_SecureHash` signs the other parameters (compared in constant time).
    static func isSigned(_ parameters: [String: String], secret: String) -> Bool {
        guard let signature = parameters["vnp_SecureHash"].flatMap({ [UInt8](hex: $0) }) else { return false }
        return HMAC<SHA512>.isValidAuthenticationCode(
            signature, authenticating: Data(hashData(parameters).utf8), using: SymmetricKey(data: Data(secret.utf8)))
    }

    /// The `vnp_SecureHash` of a merchant web API call: its fields joined with `|`.
    static func apiHash(_ fields: [String], secret: String) -> String {
        hash(fields.joined(separator: "|"), secret: secret)
    }

    static func hash(_ text: String, secret: String) -> String {
        let code = HMAC<SHA512>.authenticationCode(for: Data(text.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return code.lowercaseHex
    }

    // MARK: Form encoding

    /// application/x-www-form-urlencoded as VNPay's merchant code does it: RFC 3986 unreserved
    /// characters kept, space as `+`, every other UTF-8 byte as `%XX`.
    static func formEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                encoded += "+"
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).zeroPadded(to: 2)
            }
        }
        return encoded
    }

    /// The parameters of a form-encoded query; nil when it is not one (a broken `%` escape, bytes
    /// that are not UTF-8, a name given twice).
    static func parseQuery(_ query: String) -> [String: String]? {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecode(parts[0]), let value = formDecode(parts.count > 1 ? parts[1] : ""),
                parameters.updateValue(value, forKey: name) == nil
            else { return nil }
        }
        return parameters
    }

    static func formDecode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var remaining = text.utf8[...]
        while let byte = remaining.popFirst() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = remaining.popFirst().flatMap(\.hexDigitValue), let low = remaining.popFirst().flatMap(\.hexDigitValue)
                else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(bytes: bytes, encoding: .utf8)
    }
}

extension String {
    func zeroPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
