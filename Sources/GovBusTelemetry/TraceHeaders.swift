public import AMQP
import GovBus
public import ServiceContextModule
import Tracing

/// A message's W3C trace context (`traceparent`, `tracestate`) on its way through the bus.
///
/// With traces on (`BusTracing`), each hop makes a span, a child of the context the message came
/// with, and passes its own context on. With traces off, the context is passed on unchanged, so
/// that a tracing tool of the systems around the bus still sees one trace.
public struct TraceHeaders: Sendable, Hashable {
    public let parent: String
    public let state: String?

    /// Nil unless `parent` has the W3C form `00-<32 hex>-<16 hex>-<2 hex>` (anything else a sender
    /// wrote is dropped, not passed on); a `tracestate` only in printable ASCII, at most 512 bytes.
    public init?(parent: String?, state: String?) {
        guard let parent, Self.isWellFormed(parent) else { return nil }
        self.parent = parent
        // It goes into HTTP headers, and a sender could put a line break in it.
        self.state = state.flatMap { state in
            state.isEmpty || state.utf8.count > 512 || !state.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) ? nil : state
        }
    }

    /// Version 00's form, lower-case hex, neither id all zeros (W3C Trace Context, level 1).
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count == 55 else { return false }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.map(\.utf8.count) == [2, 32, 16, 2], parts[0] == "00" else { return false }
        let isHex = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) }
        return parts.allSatisfy { $0.utf8.allSatisfy(isHex) } && parts[1].contains { $0 != "0" } && parts[2].contains { $0 != "0" }
    }

    /// The trace's id, for a link to a tracing tool.
    public var traceID: String { String(parent.split(separator: "-")[1]) }

    /// The context these headers stand for: the tracer's (when traces are on) and the headers
    /// themselves, to pass on when they are off.
    public var context: ServiceContext {
        var context = ServiceContext.topLevel
        if BusTracing.isActive {
            let carrier = [BusHeader.traceparent: parent, BusHeader.tracestate: state ?? ""]
            InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryExtractor())
        }
        context[ReceivedTraceHeaders.self] = self
        return context
    }

    /// The headers that pass `context` on: its span's (traces on), or those it came with.
    public init?(of context: ServiceContext) {
        if BusTracing.isActive {
            var carrier: [String: String] = [:]
            InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
            if let headers = TraceHeaders(parent: carrier[BusHeader.traceparent], state: carrier[BusHeader.tracestate]) {
                self = headers
                return
            }
        }
        guard let received = context[ReceivedTraceHeaders.self] else { return nil }
        self = received
    }

    /// The headers of the task's current context, if it has one.
    public static var current: TraceHeaders? { ServiceContext.current.flatMap(TraceHeaders.init(of:)) }

    /// Those a message carries, when they are well formed.
    public init?(of properties: AMQPProperties) {
        self.init(
            parent: properties.headers?[BusHeader.traceparent]?.stringValue,
            state: properties.headers?[BusHeader.tracestate]?.stringValue)
    }
}

/// The trace headers a hop received, kept in its context for when traces are off.
private enum ReceivedTraceHeaders: ServiceContextKey {
    typealias Value = TraceHeaders
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? {
        carrier[key].flatMap { $0.isEmpty ? nil : $0 }
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
