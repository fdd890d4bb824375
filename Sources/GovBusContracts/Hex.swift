extension Sequence<UInt8> {
    /// The bytes in lower-case hex (digests, HMACs, derived ids). By hand: `String(format:)` per
    /// byte costs more than the SHA-256 it prints, and the core prints one or two per message.
    public var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
