/// W3C trace context (`traceparent`, `tracestate`) of an inbox message, passed on to the calls
/// its handling makes, so that a tracing tool sees the external call within the dossier's trace.
public struct TraceContext: Sendable, Hashable {
    public let parent: String
    public let state: String?

    /// Nil unless `parent` has the W3C form `00-<32 hex>-<16 hex>-<2 hex>`: a header that is not
    /// is dropped rather than passed on.
    public init?(parent: String?, state: String?) {
        guard let parent, Self.isWellFormed(parent) else { return nil }
        self.parent = parent
        // Printable ASCII only: it goes into HTTP headers, and a sender could put a line break in it.
        self.state = state.flatMap { state in
            state.isEmpty || state.utf8.count > 512 || !state.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) ? nil : state
        }
    }

    static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.map(\.utf8.count) == [2, 32, 16, 2] else { return false }
        return parts.allSatisfy { $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) } }
    }
}
