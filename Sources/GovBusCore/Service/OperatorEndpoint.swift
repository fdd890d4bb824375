import Foundation
import GovBus
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// What the console asks of the core for an operator: `POST /operator/dossiers/{id}/retry` or
/// `/reject` with `Authorization: Bearer <token>`, `GovBus-Operator: <name>` and
/// `{"reason": "..."}`. Served beside `/metrics` (local by default), only when the core has an
/// operator token.
///
/// The token's one holder is the console: it logs the operator in, and it alone says who acts,
/// in the `GovBus-Operator` header it sets from the operator's session. The name is never read
/// from the body (the body's `reason` is text an operator typed in the browser), so that nothing
/// a browser sends can put an action under another operator's name.
package enum OperatorEndpoint {
    /// The operator's name, percent-encoded (names need not be ASCII; header values must be).
    package static let operatorHeader = "GovBus-Operator"
    /// Shorter tokens can be guessed over a network; `govbus up` makes 32 hex characters.
    package static let minimumTokenLength = 32

    /// Why `token` may not be used, naming where it came from (a file and key, an environment
    /// variable, an option); nil when it is long enough.
    package static func tokenProblem(_ token: String, source: String) -> String? {
        guard token.count < minimumTokenLength else { return nil }
        return "the operator token of \(source) must be at least \(minimumTokenLength) characters; it has \(token.count)"
    }

    /// What the body may hold.
    struct Decision: Decodable {
        var reason: String?
    }

    /// The core's answer: the dossier's state after the decision.
    struct Outcome: Codable {
        var state: String
        var ignoredBecause: String?
    }

    /// How a decision reaches the core: dossier id, retry (else reject), reason, operator.
    typealias Decide = @Sendable (_ dossier: String, _ retry: Bool, _ reason: String?, _ name: String) async throws -> (
        state: String, ignoredBecause: String?
    )

    static func addRoutes(to router: Router<BasicRequestContext>, token: String, core: CoreRouter) {
        addRoutes(to: router, token: token) { id, retry, reason, name in
            try await core.operatorDecided(id, retry: retry, reason: reason, operator: name)
        }
    }

    static func addRoutes(to router: Router<BasicRequestContext>, token: String, decide: @escaping Decide) {
        for (action, retry) in [("retry", true), ("reject", false)] {
            router.post("/operator/dossiers/:id/\(action)") { request, context -> Response in
                guard let given = request.headers[.authorization], isSame(given, "Bearer \(token)") else {
                    throw HTTPError(.unauthorized, message: "a bearer token is needed")
                }
                let name = try operatorName(request)
                let body = try await request.body.collect(upTo: 16 * 1024)
                let reason: String?
                if body.readableBytes == 0 {
                    reason = nil
                } else {
                    guard let decision = try? JSONDecoder().decode(Decision.self, from: Data(buffer: body)) else {
                        throw HTTPError(.badRequest, message: "expected {\"reason\": text}")
                    }
                    reason = decision.reason
                }
                let id = try context.parameters.require("id")
                let outcome: (state: String, ignoredBecause: String?)
                do {
                    outcome = try await decide(id, retry, reason, name)
                } catch {
                    throw HTTPError(.notFound, message: "\(error)")
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(
                        byteBuffer: ByteBuffer(
                            bytes: try encoder.encode(Outcome(state: outcome.state, ignoredBecause: outcome.ignoredBecause)))))
            }
        }
    }

    /// The `GovBus-Operator` value naming `name`: percent-encoded to URL-unreserved ASCII.
    package static func headerValue(naming name: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return name.addingPercentEncoding(withAllowedCharacters: unreserved) ?? name
    }

    /// The operator the console names; a request without one is refused rather than recorded
    /// under a name from anywhere else.
    static func operatorName(_ request: Request) throws -> String {
        guard let encoded = request.headers[.init(operatorHeader)!], let name = encoded.removingPercentEncoding, !name.isEmpty
        else {
            throw HTTPError(.badRequest, message: "the \(operatorHeader) header must name the operator (percent-encoded)")
        }
        return name
    }

    /// Constant time: how much of a token matched must not show in how long the answer took.
    static func isSame(_ given: String, _ expected: String) -> Bool {
        ConstantTime.equal(Array(given.utf8), Array(expected.utf8))
    }
}
