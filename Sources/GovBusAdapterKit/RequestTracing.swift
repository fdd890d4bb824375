import GovBusTelemetry
public import Hummingbird
import ServiceContextModule

/// The trace of an HTTP request to a connector (the portal's push, a gateway's callback): with
/// traces on, a server span per request (Hummingbird's `TracingMiddleware`, a child of the
/// request's `traceparent`); with them off, the request's own trace headers, so that what the
/// connector stores for the bus carries them on.
struct RequestTracing<Context: RequestContext>: RouterMiddleware {
    private let spans = TracingMiddleware<Context>()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if BusTracing.isActive { return try await spans.handle(request, context: context, next: next) }
        guard
            let received = TraceHeaders(
                parent: request.headers[values: .init("traceparent")!].first,
                state: request.headers[values: .init("tracestate")!].first)
        else { return try await next(request, context) }
        return try await ServiceContext.withValue(received.context) { try await next(request, context) }
    }
}
