import OTelSemanticConventions
public import Tracing

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

    /// What a sender wrote goes into the span before any check: each value is cut short, so that
    /// no adapter can fill the tracing tool.
    private static func describe(
        _ span: any Span, operation: String, destination: String, type: String?, messageID: String?, dossierID: String?
    ) {
        func short(_ text: String) -> String { String(text.prefix(128)) }
        span.attributes[OTelAttribute.messaging.system] = "rabbitmq"
        span.attributes[OTelAttribute.messaging.operation.name] = operation
        span.attributes[OTelAttribute.messaging.destination.name] = destination
        if let messageID { span.attributes[OTelAttribute.messaging.message.id] = short(messageID) }
        if let type { span.attributes["govbus.message.type"] = short(type) }
        if let dossierID {
            span.attributes[OTelAttribute.messaging.message.conversationId] = short(dossierID)
            span.attributes[dossierAttribute] = short(dossierID)
        }
    }
}

extension Span {
    /// The headers that carry this span on to the next hop.
    public var traceHeaders: TraceHeaders? { TraceHeaders(of: context) }
}
