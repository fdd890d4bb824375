import Crypto
import Dispatch
import Foundation
import _CryptoExtras

/// Operators' passwords as the console's configuration holds them: scrypt (memory-hard, so a
/// stolen file is slow to attack), `scrypt$N$r$p$<salt base64>$<key base64>`.
/// `govbus console hash-password` prints one.
enum PasswordHash {
    static let rounds = 1 << 15
    static let blockSize = 8
    static let parallelism = 1

    /// `rounds` (scrypt's N) lower than the default only for tests.
    static func make(_ password: String, rounds: Int = rounds) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let key = try derive(password, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(key.base64EncodedString())"
    }

    /// `verify` on a thread of its own: scrypt takes tens of milliseconds of CPU by design, which
    /// must not hold up the server's other requests.
    static func verifyOffPool(_ password: String, against hash: String) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: verify(password, against: hash)) }
        }
    }

    /// Whether `password` is the one `hash` was made from; false for a hash it cannot read.
    static func verify(_ password: String, against hash: String) -> Bool {
        let parts = hash.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]),
            let derived = try? derive(password, salt: Array(salt), rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        else { return false }
        // Constant time: how much matched must not show in how long it took.
        return derived.count == expected.count && zip(derived, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}
