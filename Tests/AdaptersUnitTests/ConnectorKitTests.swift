import Foundation
import GovBus
import GovBusAdapterKit
import GovBusContracts
import GovBusTelemetry
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The kit's shared plumbing: typed handlers, the one HTTP policy against a real HTTP server, the
/// trace context, constant-time comparison and hex. No broker.
@Suite("Connector kit: typed handlers and the shared HTTP policy")
struct ConnectorKitTests {
    static func inbox(_ type: String, body: String, id: String = "m-1", traceparent: String? = nil) -> InboxMessage {
        InboxMessage(
            type: type, messageID: id, correlationID: "HS-1", body: Data(body.utf8),
            trace: TraceHeaders(parent: traceparent, state: "vendor=1"))
    }

    static func heartbeat() throws -> String {
        let heartbeat = AdapterHeartbeatV1(
            adapter: "registry", version: "1", instance: "a", startedAt: Date(), sentAt: Date(), status: .up)
        return String(decoding: try heartbeat.jsonBody(), as: UTF8.self)
    }

    static func failure(_ body: () async throws -> Void) async -> AdapterFailure? {
        do {
            try await body()
            return nil
        } catch let failure as AdapterFailure {
            return failure
        } catch {
            Issue.record("not an AdapterFailure: \(error)")
            return nil
        }
    }

    static func isPermanent(_ failure: AdapterFailure?) -> Bool {
        if case .permanent = failure { return true }
        return false
    }

    static func isTransient(_ failure: AdapterFailure?) -> Bool {
        if case .transient = failure { return true }
        return false
    }

    @Test("A handler gets its type decoded; another type, a body not of its type, or no message id are dead-lettered with the reason")
    func typedHandlers() async throws {
        let seen = Mutex<[String]>([])
        let handlers = MessageHandlers().on(AdapterHeartbeatV1.self) { heartbeat, message in
            seen.withLock { $0.append("\(heartbeat.adapter) \(message.messageID)") }
        }
        #expect(handlers.types == [AdapterHeartbeatV1.messageType])
        try await handlers.handle(Self.inbox(AdapterHeartbeatV1.messageType, body: try Self.heartbeat()))
        #expect(seen.withLock { $0 } == ["registry m-1"])

        let other = await Self.failure { try await handlers.handle(Self.inbox("payment.fee.requested.v1", body: "{}")) }
        #expect(Self.isPermanent(other))
        #expect("\(other.map { "\($0)" } ?? "")".contains("no handler for 'payment.fee.requested.v1'"))
        let wrongBody = await Self.failure { try await handlers.handle(Self.inbox(AdapterHeartbeatV1.messageType, body: "{\"x\":1}")) }
        #expect(Self.isPermanent(wrongBody))
        let noID = await Self.failure {
            try await handlers.handle(Self.inbox(AdapterHeartbeatV1.messageType, body: try Self.heartbeat(), id: ""))
        }
        #expect(Self.isPermanent(noID))
        #expect(seen.withLock { $0.count } == 1)
    }

    @Test("One verdict per status for every connector: 2xx an answer; 408, 425, 429, 5xx transient; 3xx and other 4xx permanent")
    func statusVerdicts() {
        for status in [200, 201, 204] { #expect(HTTPPolicy.verdict(status: status) == .answer) }
        for status in [408, 425, 429, 500, 502, 503, 504] { #expect(HTTPPolicy.verdict(status: status) == .transient) }
        for status in [301, 302, 400, 401, 403, 404, 409, 422] { #expect(HTTPPolicy.verdict(status: status) == .permanent) }
    }

    /// A real HTTP server that answers each request with the next status of `statuses` (the last one
    /// repeated), and keeps the trace headers it was sent.
    static func withServer(
        _ statuses: [Int], delay: Duration = .zero, _ test: @Sendable (_ url: String, _ calls: Calls) async throws -> Void
    ) async throws {
        let calls = Calls()
        let router = Router()
        router.post("/call") { request, _ -> Response in
            let index = calls.list.withLock { calls in
                calls.append(request.headers[HTTPField.Name("traceparent")!] ?? "-")
                return calls.count - 1
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            let status = statuses[min(index, statuses.count - 1)]
            return Response(
                status: HTTPResponse.Status(code: status), body: .init(byteBuffer: ByteBuffer(string: "answer \(index + 1)")))
        }
        try await Application(router: router).test(.live) { client in
            try await test("http://127.0.0.1:\(client.port!)/call", calls)
        }
    }

    /// The trace headers the server was sent, one per request ("-" for none).
    final class Calls: Sendable {
        let list = Mutex<[String]>([])
    }

    @Test("A 503 is tried again and the 200 after it is the answer; the message's traceparent goes with each try")
    func transientThenAnswer() async throws {
        let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        try await Self.withServer([503, 200]) { url, calls in
            let system = ExternalSystem(name: "the test system", policy: HTTPPolicy(attempts: 3, firstPause: .milliseconds(10)))
            let answer = try await system.send(
                OutboundRequest(url: url, body: Data("x".utf8)), for: Self.inbox("t", body: "{}", traceparent: traceparent))
            #expect(answer.status == 200)
            #expect(String(decoding: answer.body, as: UTF8.self) == "answer 2")
            #expect(calls.list.withLock { $0 } == [traceparent, traceparent])
        }
    }

    @Test("A 404 is permanent at once, with the answer in the reason; 503s past the tries are transient; a status read is returned")
    func permanentAndExhausted() async throws {
        try await Self.withServer([404]) { url, calls in
            let system = ExternalSystem(name: "the test system", policy: HTTPPolicy(attempts: 3, firstPause: .milliseconds(10)))
            let failure = await Self.failure { _ = try await system.send(OutboundRequest(url: url)) }
            #expect(Self.isPermanent(failure))
            #expect("\(failure.map { "\($0)" } ?? "")".contains("the test system answered HTTP 404: answer 1"))
            #expect(calls.list.withLock { $0.count } == 1)
            let read = try await system.send(OutboundRequest(url: url), reads: { $0 == 404 })
            #expect(read.status == 404)
        }
        // An answer longer than the policy allows is permanent: asking again gets the same.
        try await Self.withServer([200]) { url, _ in
            let system = ExternalSystem(name: "the test system", policy: HTTPPolicy(attempts: 3, maximumAnswerBytes: 4))
            #expect(Self.isPermanent(await Self.failure { _ = try await system.send(OutboundRequest(url: url)) }))
        }
        try await Self.withServer([503]) { url, calls in
            let system = ExternalSystem(name: "the test system", policy: HTTPPolicy(attempts: 2, firstPause: .milliseconds(10)))
            let failure = await Self.failure { _ = try await system.send(OutboundRequest(url: url)) }
            #expect(Self.isTransient(failure))
            #expect(calls.list.withLock { $0.count } == 2)
            // No traceparent when the message has none (or a malformed one).
            #expect(calls.list.withLock { $0 } == ["-", "-"])
        }
    }

    @Test("A system slower than the timeout is a transient failure; nothing listening is too")
    func timeoutAndRefused() async throws {
        try await Self.withServer([200], delay: .seconds(1)) { url, _ in
            let system = ExternalSystem(name: "the slow system", policy: HTTPPolicy(timeout: .milliseconds(300), attempts: 1))
            let started = ContinuousClock.now
            let failure = await Self.failure { _ = try await system.send(OutboundRequest(url: url)) }
            #expect(Self.isTransient(failure))
            #expect(ContinuousClock.now - started < .seconds(2))
        }
        let nobody = ExternalSystem(name: "nobody", policy: HTTPPolicy(attempts: 1))
        #expect(Self.isTransient(await Self.failure { _ = try await nobody.send(OutboundRequest(url: "http://127.0.0.1:9/call")) }))
    }

    @Test("Trace context: only a W3C traceparent is passed on")
    func traceContext() {
        #expect(TraceHeaders(parent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", state: nil) != nil)
        for bad in [
            "", "00-xyz-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "0af7651916cd43dd8448eb211c80319c",
            // Version ff is forbidden; an id of zeros is no id; upper case is not W3C's form.
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        ] {
            #expect(TraceHeaders(parent: bad, state: nil) == nil)
        }
        // A tracestate goes into HTTP headers: a line break (or anything but printable ASCII) drops it.
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        #expect(TraceHeaders(parent: parent, state: "vendor=1")?.state == "vendor=1")
        #expect(TraceHeaders(parent: parent, state: "vendor=1\r\nX-Injected: yes")?.state == nil)
        #expect(TraceHeaders(parent: parent, state: "vendor=é")?.state == nil)
        #expect(TraceHeaders(parent: parent, state: String(repeating: "v=1,", count: 200))?.state == nil)
    }

    @Test("Constant-time equality and hex: equal only when equal, any length")
    func constantTimeAndHex() {
        #expect(ConstantTime.equal(Array("token".utf8), Array("token".utf8)))
        #expect(!ConstantTime.equal(Array("token".utf8), Array("tokem".utf8)))
        #expect(!ConstantTime.equal(Array("token".utf8), Array("token2".utf8)))
        #expect([UInt8](hex: "00ff7A") == [0, 255, 122])
        #expect([UInt8](hex: "0") == nil)
        #expect([UInt8](hex: "zz") == nil)
        #expect([UInt8](hex: "00ff7a")?.lowercaseHex == "00ff7a")
    }
}
