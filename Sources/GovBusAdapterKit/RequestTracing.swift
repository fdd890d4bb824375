import GovBusTelemetry
import Hummingbird
import OTelSemanticConventions
import ServiceContextModule
import Tracing

/// The trace of an HTTP request to a connector (the portal's push, a gateway's callback). With
/// traces on, a server span per request, named `<method> <route>` as OpenTelemetry's HTTP
/// conventions say, a child of the request's `traceparent`; with them off, the request's own
/// trace headers. Either way what the connector stores for the bus carries the trace on.
///
/// The query is not recorded: a gateway's callback carries its signature, amounts and references
/// there, which have no place in a tracing tool.
struct RequestTracing<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let received = TraceHeaders(
            parent: request.headers[values: .init("traceparent")!].first,
            state: request.headers[values: .init("tracestate")!].first)
        guard BusTracing.isActive else {
            guard let received else { return try await next(request, context) }
            return try await ServiceContext.withValue(received.context) { try await next(request, context) }
        }
        let method = request.method.rawValue
        let span = InstrumentationSystem.tracer.startAnySpan(
            method, context: received?.context ?? .topLevel, ofKind: .server)
        defer { span.end() }
        span.attributes[OTelAttribute.http.request.method] = method
        span.attributes[OTelAttribute.url.path] = request.uri.path
        do {
            let response = try await ServiceContext.withValue(span.context) { try await next(request, context) }
            if let route = context.endpointPath {
                span.operationName = "\(method) \(route)"
                span.attributes[OTelAttribute.http.route] = route
            }
            span.attributes[OTelAttribute.http.response.statusCode] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        } catch {
            // The type only: an error's text may quote what the caller sent.
            span.setStatus(SpanStatus(code: .error, message: "\(type(of: error))"))
            throw error
        }
    }
}
