public import AMQP
import GovBus
public import GovBusTelemetry

extension AMQPMessage {
    /// The copy that goes on in `trace`; with none, without trace headers (what a sender wrote
    /// that is not a W3C trace context goes no further).
    public func carrying(_ trace: TraceHeaders?) -> AMQPMessage {
        guard trace != nil || properties.headers?[BusHeader.traceparent] != nil || properties.headers?[BusHeader.tracestate] != nil
        else { return self }
        var copy = self
        var headers = copy.properties.headers ?? [:]
        headers[BusHeader.traceparent] = trace.map { .string($0.parent) }
        headers[BusHeader.tracestate] = trace?.state.map { .string($0) }
        copy.properties.headers = headers
        return copy
    }
}
