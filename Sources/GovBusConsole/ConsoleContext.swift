import Foundation
public import Hummingbird
import NIOCore

/// A request's context in the console: who is asking, once the access middleware knows, and from
/// which address (the login's rate limit counts failures per address).
public struct ConsoleContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var session: Sessions.Session?
    /// The peer's IP address; nil when there is none (the router tests). Behind a proxy it is the
    /// proxy's: the console trusts no forwarding header a client could write.
    let clientAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// Nothing but the login, `/health` and `/metrics` answers without a session: the API says 401,
/// a page sends to the login page. An action (any method but GET) needs the session's CSRF token
/// in `X-CSRF-Token` and, when the browser says where it comes from, the console's own origin.
/// The login itself must be JSON and must say it comes from the console's own origin (a form on
/// another site can send neither), so that no other site logs a browser in under its account.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = ConsoleContext
    let sessions: Sessions
    /// `scheme://host[:port]` the console is served at (the configuration's `publicUrl`).
    let origin: String
    static let open: Set<String> = ["/health", "/metrics", "/login", "/api/login", "/console.js", "/console.css"]
    static let loginPath = "/api/login"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let changes = request.method != .get && request.method != .head
        if path == Self.loginPath && changes {
            try checkLogin(request)
        }
        if Self.open.contains(path) { return try await next(request, context) }
        guard let session = sessions.session(request.cookies[Sessions.cookieName]?.value) else {
            if path.hasPrefix("/api/") { throw HTTPError(.unauthorized, message: "log in first") }
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        if changes {
            guard request.headers[.init("X-CSRF-Token")!] == session.csrfToken else {
                throw HTTPError(.forbidden, message: "missing or wrong X-CSRF-Token")
            }
            if let given = request.headers[.origin], given.lowercased() != origin {
                throw HTTPError(.forbidden, message: "a request from another site (Origin \(given)); the console is \(origin)")
            }
        }
        var context = context
        context.session = session
        return try await next(request, context)
    }

    /// `Content-Type: application/json` (415 otherwise) and `Origin` equal to the console's own
    /// (403 otherwise, also when there is none).
    func checkLogin(_ request: Request) throws {
        let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw HTTPError(.unsupportedMediaType, message: "a login is JSON: send Content-Type: application/json")
        }
        guard let given = request.headers[.origin] else {
            throw HTTPError(.forbidden, message: "a login must come from the console's own pages: no Origin header (expected \(origin))")
        }
        guard given.lowercased() == origin else {
            throw HTTPError(.forbidden, message: "a login from another site (Origin \(given)); the console is \(origin) (its publicUrl)")
        }
    }
}
