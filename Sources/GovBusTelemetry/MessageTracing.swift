import OTelSemanticConventions
public import ServiceContextModule
public import Tracing

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

    public static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.map(\.utf8.count) == [2, 32, 16, 2] else { return false }
        return parts.allSatisfy { part in
            part.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        }
    }

    /// The trace's id, for a link to a tracing tool.
    public var traceID: String { String(parent.split(separator: "-")[1]) }

    /// The context these headers stand for: the tracer's (when traces are on) and the headers
    /// themselves, to pass on when they are off.
    public var context: ServiceContext {
        var context = ServiceContext.topLevel
        if BusTracing.isActive {
            let carrier = ["traceparent": parent, "tracestate": state ?? ""]
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
            if let headers = TraceHeaders(parent: carrier["traceparent"], state: carrier["tracestate"]) {
                self = headers
                return
            }
        }
        guard let received = context[ReceivedTraceHeaders.self] else { return nil }
        self = received
    }

    /// The headers of the task's current context, if it has one.
    public static var current: TraceHeaders? { ServiceContext.current.flatMap(TraceHeaders.init(of:)) }
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

/// Spans named and described after OpenTelemetry's messaging conventions.
public enum MessagingSpan {
    /// A span for a message taken from `queue` ("process <queue>", a consumer), a child of what
    /// the message carries; nil when traces are off.
    public static func process(
        queue: String, type: String?, messageID: String?, dossierID: String?, headers: TraceHeaders?
    ) -> (any Span)? {
        guard BusTracing.isActive else { return nil }
        let span = InstrumentationSystem.tracer.startAnySpan(
            "process \(queue)", context: headers?.context ?? .topLevel, ofKind: .consumer)
        describe(span, operation: "process", destination: queue, type: type, messageID: messageID, dossierID: dossierID)
        return span
    }

    /// A span for a message published to `exchange` ("send <exchange>", a producer).
    public static func send(
        exchange: String, type: String?, messageID: String?, dossierID: String?, parent: TraceHeaders?
    ) -> (any Span)? {
        guard BusTracing.isActive else { return nil }
        let span = InstrumentationSystem.tracer.startAnySpan(
            "send \(exchange)", context: parent?.context ?? .topLevel, ofKind: .producer)
        describe(span, operation: "send", destination: exchange, type: type, messageID: messageID, dossierID: dossierID)
        return span
    }

    /// A span of the bus's own making (a step timer, an operator's decision), in the trace of
    /// `parent` when there is one.
    public static func internalWork(_ name: String, dossierID: String?, parent: TraceHeaders?) -> (any Span)? {
        guard BusTracing.isActive else { return nil }
        let span = InstrumentationSystem.tracer.startAnySpan(name, context: parent?.context ?? .topLevel, ofKind: .internal)
        if let dossierID { span.attributes[dossierAttribute] = dossierID }
        return span
    }

    /// The dossier a span is about: the key to search a tracing tool by.
    public static let dossierAttribute = "govbus.dossier.id"

    private static func describe(
        _ span: any Span, operation: String, destination: String, type: String?, messageID: String?, dossierID: String?
    ) {
        span.attributes[OTelAttribute.messaging.system] = "rabbitmq"
        span.attributes[OTelAttribute.messaging.operation.name] = operation
        span.attributes[OTelAttribute.messaging.destination.name] = destination
        if let messageID { span.attributes[OTelAttribute.messaging.message.id] = messageID }
        if let type { span.attributes["govbus.message.type"] = type }
        if let dossierID {
            span.attributes[OTelAttribute.messaging.message.conversationId] = dossierID
            span.attributes[dossierAttribute] = dossierID
        }
    }
}

extension Span {
    /// The headers that carry this span on to the next hop.
    public var traceHeaders: TraceHeaders? { TraceHeaders(of: context) }
}
