public import Foundation
import Crypto

/// Comparisons of secrets (tokens, password hashes) whose time does not tell how much matched.
public enum ConstantTime {
    /// swift-crypto compares keys in constant time; two byte strings compared as keys are too.
    public static func equal(_ given: some ContiguousBytes, _ expected: some ContiguousBytes) -> Bool {
        SymmetricKey(data: given) == SymmetricKey(data: expected)
    }
}
