import Foundation
import FuzzSupport
import GovBus

// The JSON Schema validator, on fuzz JSON against every message schema of Schemas/.
//
// Invariants: nothing crashes; the quick check (isValid) and the full listing (validate) agree;
// every error's instance path points at a value of the instance.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let instance = try? JSONValue(parsing: Data(fuzzBuffer(data, size))) else { return 0 }
    let catalog = FuzzEnvironment.catalog
    for type in catalog.messageTypes {
        guard let schema = catalog.schema(for: type) else { invariantBroken("\(type) listed without a schema") }
        let errors = schema.validate(instance)
        guard schema.isValid(instance) == errors.isEmpty else {
            invariantBroken("\(type): isValid and validate disagree (\(errors.count) errors)")
        }
        for error in errors where error.keyword != "propertyNames" {
            guard resolve(error.instancePath, in: instance) != nil else {
                invariantBroken("\(type): the error '\(error)' points at no value")
            }
        }
    }
    return 0
}

/// The value a JSON Pointer (RFC 6901) names, or nil.
func resolve(_ pointer: String, in value: JSONValue) -> JSONValue? {
    if pointer.isEmpty { return value }
    guard pointer.hasPrefix("/") else { return nil }
    var current = value
    for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
        let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        switch current {
        case .object(let object):
            guard let next = object.first(where: { $0.key.unicodeScalars.elementsEqual(token.unicodeScalars) })?.value
            else { return nil }
            current = next
        case .array(let array):
            guard let index = Int(token), array.indices.contains(index) else { return nil }
            current = array[index]
        default:
            return nil
        }
    }
    return current
}
