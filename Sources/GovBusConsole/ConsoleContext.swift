public import Hummingbird

/// A request's context in the console: who is asking, once the access middleware knows.
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var session: Sessions.Session?

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Nothing but the login, `/health` and `/metrics` answers without a session: the API says 401,
/// a page sends to the login page. An action (any method but GET) needs the session's CSRF token
/// in `X-CSRF-Token` and, when the browser says where it comes from, the console's own origin.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let sessions: Sessions
    static let open: Set<String> = ["/health", "/metrics", "/login", "/api/login", "/console.js", "/console.css"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.open.contains(path) { return try await next(request, context) }
        guard let session = sessions.session(request.cookies[Sessions.cookieName]?.value) else {
            if path.hasPrefix("/api/") { throw HTTPError(.unauthorized, message: "log in first") }
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        if request.method != .get && request.method != .head {
            guard request.headers[.init("X-CSRF-Token")!] == session.csrfToken else {
                throw HTTPError(.forbidden, message: "missing or wrong X-CSRF-Token")
            }
            if let origin = request.headers[.origin], let host = request.head.authority, origin != "http://\(host)",
                origin != "https://\(host)"
            {
                throw HTTPError(.forbidden, message: "a request from another site")
            }
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }
}
