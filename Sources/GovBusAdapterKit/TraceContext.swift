public import GovBusTelemetry

/// W3C trace context (`traceparent`, `tracestate`) of an inbox message, passed on to the calls
/// its handling makes, so that a tracing tool sees the external call within the dossier's trace.
public typealias TraceContext = TraceHeaders
