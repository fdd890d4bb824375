import Foundation
import FuzzSupport
import GovBus

// The JSON reader the core parses every body with (JSONValue(parsing:)).
//
// Invariants: nothing crashes; what parses writes back (jsonText) as JSON that parses to an equal
// value with the same hash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Data(fuzzBuffer(data, size))
    guard let value = try? JSONValue(parsing: bytes) else { return 0 }
    let text = value.jsonText
    let again: JSONValue
    do {
        again = try JSONValue(parsing: text)
    } catch {
        invariantBroken("jsonText wrote '\(text.prefix(200))', which does not parse: \(error)")
    }
    guard again == value else { invariantBroken("jsonText changed the value: '\(text.prefix(200))'") }
    guard again.hashValue == value.hashValue else { invariantBroken("equal values with different hashes") }
    return 0
}
