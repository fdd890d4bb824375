import Crypto
import Foundation
import GovBus
import _CryptoExtras

/// Operators' passwords as the console's configuration holds them: scrypt (memory-hard, so a
/// stolen file is slow to attack), `scrypt$N$r$p$<salt base64>$<key base64>`.
/// `govbus console hash-password` prints one.
///
/// `verify` takes tens of milliseconds of CPU and 32 MiB by design: the login runs it on
/// `HashPool`, never on the server's own threads.
enum PasswordHash {
    static let rounds = 1 << 15
    static let blockSize = 8
    static let parallelism = 1

    /// What makes a hash costly to check: scrypt's N, r and p.
    struct Parameters: Sendable, Equatable {
        var rounds: Int
        var blockSize: Int
        var parallelism: Int

        /// Memory times passes, to compare two: scrypt's work grows with N·r·p.
        var cost: Int { rounds * blockSize * parallelism }
    }

    /// `rounds` (scrypt's N) lower than the default only for tests.
    static func make(_ password: String, rounds: Int = rounds) throws -> String {
        let salt = randomBytes(16)
        let key = try derive(password, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(key.base64EncodedString())"
    }

    /// A hash no password is known to match, with the costliest parameters among `hashes` (the
    /// defaults when there are none): the login checks an unknown name's password against it, so
    /// that an unknown name takes as long as a known one and nobody learns which names exist.
    /// Made without running scrypt: a random key is as good as a derived one here.
    static func dummy(like hashes: some Sequence<String>) -> String {
        let costliest = hashes.compactMap(parameters(of:)).max { $0.cost < $1.cost }
            ?? Parameters(rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(costliest.rounds)$\(costliest.blockSize)$\(costliest.parallelism)$"
            + "\(Data(randomBytes(16)).base64EncodedString())$\(Data(randomBytes(32)).base64EncodedString())"
    }

    /// The parameters of a hash `verify` can read; nil for any other.
    static func parameters(of hash: String) -> Parameters? {
        read(hash)?.parameters
    }

    /// Whether `password` is the one `hash` was made from; false for a hash it cannot read.
    static func verify(_ password: String, against hash: String) -> Bool {
        guard let (parameters, salt, expected) = read(hash),
            let derived = try? derive(
                password, salt: salt, rounds: parameters.rounds, blockSize: parameters.blockSize, parallelism: parameters.parallelism)
        else { return false }
        // Constant time: how much matched must not show in how long it took.
        return ConstantTime.equal(derived, expected)
    }

    private static func read(_ hash: String) -> (parameters: Parameters, salt: [UInt8], key: Data)? {
        let parts = hash.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let rounds = Int(parts[1]), let blockSize = Int(parts[2]),
            let parallelism = Int(parts[3]), let salt = Data(base64Encoded: parts[4]), let key = Data(base64Encoded: parts[5])
        else { return nil }
        return (Parameters(rounds: rounds, blockSize: blockSize, parallelism: parallelism), Array(salt), key)
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    private static func derive(_ password: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize,
            parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}
