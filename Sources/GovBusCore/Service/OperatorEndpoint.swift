import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// What the console asks of the core for an operator: `POST /operator/dossiers/{id}/retry` or
/// `/reject` with `{"operator": "lan", "reason": "..."}` and `Authorization: Bearer <token>`.
/// Served beside `/metrics` (local by default), only when the core has an operator token.
enum OperatorEndpoint {
    struct Decision: Decodable {
        var `operator`: String
        var reason: String?
    }

    static func addRoutes(to router: Router<BasicRequestContext>, token: String, core: CoreRouter) {
        for (action, retry) in [("retry", true), ("reject", false)] {
            router.post("/operator/dossiers/:id/\(action)") { request, context -> Response in
                guard let given = request.headers[.authorization], isSame(given, "Bearer \(token)") else {
                    throw HTTPError(.unauthorized, message: "a bearer token is needed")
                }
                let body = try await request.body.collect(upTo: 16 * 1024)
                guard let decision = try? JSONDecoder().decode(Decision.self, from: Data(buffer: body)), !decision.operator.isEmpty
                else { throw HTTPError(.badRequest, message: "expected {\"operator\": name, \"reason\": text}") }
                let id = try context.parameters.require("id")
                let outcome: (state: String, ignoredBecause: String?)
                do {
                    outcome = try await core.operatorDecided(id, retry: retry, reason: decision.reason, operator: decision.operator)
                } catch {
                    throw HTTPError(.notFound, message: "\(error)")
                }
                var answer = ["state": outcome.state]
                if let ignored = outcome.ignoredBecause { answer["ignoredBecause"] = ignored }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: answer))))
            }
        }
    }

    /// Constant time: how much of a token matched must not show in how long the answer took.
    static func isSame(_ given: String, _ expected: String) -> Bool {
        let left = Array(given.utf8)
        let right = Array(expected.utf8)
        return left.count == right.count && zip(left, right).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
