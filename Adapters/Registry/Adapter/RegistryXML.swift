import Foundation
import XRoad

/// The registry's envelopes as XML, named as `RegistrySOAPNames` says (the registry reads them the same way).
enum RegistryXML {
    static func encode(_ envelope: RegistryEnvelope) throws -> Data {
        try RegistrySOAPNames.encode(envelope)
    }

    static func decode(_ data: Data) throws -> RegistryEnvelope {
        try RegistrySOAPNames.decode(RegistryEnvelope.self, from: data)
    }
}
