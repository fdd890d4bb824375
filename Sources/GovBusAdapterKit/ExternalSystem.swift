public import AsyncHTTPClient
public import CoreMetrics
public import Foundation
import GovBus
import GovBusTelemetry
import NIOCore
import NIOFoundationCompat
public import NIOHTTP1
import OTelSemanticConventions
import ServiceContextModule
import Tracing

/// How every connector calls its external system, and what an answer means for the inbox
/// message behind the call. One policy for all connectors; each sets its numbers (the four here:
/// 10 s for the portal's progress API and the registry's lookups, 30 s for a refund and a document
/// issued), and a deployment may override them (`httpTimeout`, `httpAttempts`).
///
/// - A status of 2xx is an answer.
/// - 408 (the request timed out), 425, 429 (too many requests), 5xx, a timeout or a connection
///   that fails are transient: the same request may succeed later. They are tried again here
///   (`attempts` tries, the pause doubling from `firstPause`), then handed to the inbox, which
///   tries again with a longer pause and, at last, dead-letters.
/// - Every other status (3xx that the client did not follow, 4xx) is permanent: sending the same
///   request again cannot help, so the message goes to the dead letters with the answer's start.
public struct HTTPPolicy: Sendable {
    /// For one try, from the request's start to its answer's last byte.
    public var timeout: Duration
    /// Tries of one call before its failure goes back to the inbox.
    public var attempts: Int
    public var firstPause: Duration
    /// Answers longer than this are refused (a system that went wrong, or an attacker).
    public var maximumAnswerBytes: Int

    public init(
        timeout: Duration = .seconds(15), attempts: Int = 2, firstPause: Duration = .milliseconds(200),
        maximumAnswerBytes: Int = 1 << 20
    ) {
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.firstPause = firstPause
        self.maximumAnswerBytes = maximumAnswerBytes
    }

    public enum Verdict: Sendable, Hashable {
        case answer, transient, permanent
    }

    /// What a status means, the same for every connector.
    public static func verdict(status: Int) -> Verdict {
        switch status {
        case 200..<300: .answer
        case 408, 425, 429, 500..<600: .transient
        default: .permanent
        }
    }
}

/// A request for an external system.
public struct OutboundRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data?

    public init(_ method: HTTPMethod = .POST, url: String, headers: [(String, String)] = [], body: Data? = nil) {
        self.method = method
        self.url = url
        self.headers = HTTPHeaders(headers)
        self.body = body
    }
}

/// An external system's answer.
public struct HTTPAnswer: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: Data

    /// The body's start, for errors and logs.
    public var excerpt: String { String(decoding: body.prefix(300), as: UTF8.self) }
}

/// A connector's external system: its name (for errors: "the registry"), the HTTP client and the policy.
public struct ExternalSystem: Sendable {
    public let name: String
    public let policy: HTTPPolicy
    private let http: HTTPClient
    private let metrics: (any MetricsFactory)?

    /// `metrics`: where each try's time goes (`govbus_adapter_external_request_seconds`, by system
    /// and outcome); none, nowhere.
    public init(
        name: String, policy: HTTPPolicy = HTTPPolicy(), http: HTTPClient = .shared, metrics: (any MetricsFactory)? = nil
    ) {
        self.name = name
        self.policy = policy
        self.http = http
        self.metrics = metrics
    }

    /// Sends `request` on behalf of `inbox` (whose trace context it carries, when it has one) and
    /// returns the answer. Statuses for which `reads` is true are answers too, for the connector to
    /// read (a SOAP fault comes with a 500, an edXML refusal with a 4xx). Every other failure is
    /// tried again or thrown as `AdapterFailure`, as `HTTPPolicy` says.
    public func send(
        _ request: OutboundRequest, for inbox: InboxMessage? = nil, reads: @Sendable (Int) -> Bool = { _ in false }
    ) async throws -> HTTPAnswer {
        var pause = policy.firstPause
        for attempt in 1...policy.attempts {
            let failure: AdapterFailure
            do {
                let answer = try await traced(request, parent: inbox?.trace ?? TraceHeaders.current)
                if reads(answer.status) { return answer }
                switch HTTPPolicy.verdict(status: answer.status) {
                case .answer: return answer
                case .permanent: throw self.failure(for: answer)
                case .transient: failure = self.failure(for: answer)
                }
            } catch let classified as AdapterFailure {
                guard case .transient = classified else { throw classified }
                failure = classified
            } catch {
                failure = .transient("\(name) cannot be reached (\(request.url)): \(error)")
            }
            if attempt == policy.attempts || Task.isCancelled { throw failure }
            try await Task.sleep(for: pause)
            pause *= 2
        }
        throw AdapterFailure.transient("\(name): no try made")  // attempts ≥ 1: not reached
    }

    /// The failure an answer stands for, as `HTTPPolicy` classes its status: for answers the
    /// connector read and could not use.
    public func failure(for answer: HTTPAnswer) -> AdapterFailure {
        let reason = "\(name) answered HTTP \(answer.status): \(answer.excerpt)"
        return HTTPPolicy.verdict(status: answer.status) == .permanent ? .permanent(reason) : .transient(reason)
    }

    /// One try, in a client span when traces are on (named by its method, as OpenTelemetry's HTTP
    /// conventions say); the request carries the span on, or, traces off, `parent` as it came.
    private func traced(_ request: OutboundRequest, parent: TraceHeaders?) async throws -> HTTPAnswer {
        guard BusTracing.isActive else { return try await timed(request, trace: parent) }
        let span = InstrumentationSystem.tracer.startAnySpan(
            request.method.rawValue, context: parent?.context ?? ServiceContext.current ?? .topLevel, ofKind: .client)
        defer { span.end() }
        span.attributes[OTelAttribute.http.request.method] = request.method.rawValue
        span.attributes["govbus.external_system"] = name
        // Without a password in the URL or the query's parameters: they stay out of the tracing tool.
        if var url = URLComponents(string: request.url) {
            url.user = nil
            url.password = nil
            url.query = nil
            span.attributes[OTelAttribute.url.full] = url.string
            if let host = url.host { span.attributes[OTelAttribute.server.address] = host }
        }
        do {
            let answer = try await timed(request, trace: span.traceHeaders)
            span.attributes[OTelAttribute.http.response.statusCode] = answer.status
            if answer.status >= 400 { span.setStatus(SpanStatus(code: .error, message: "HTTP \(answer.status)")) }
            return answer
        } catch {
            // The kind of failure only: its text may quote the answer, and with it personal data.
            span.setStatus(SpanStatus(code: .error, message: "\(type(of: error))"))
            throw error
        }
    }

    /// One try, its time recorded by outcome: the status's class (2xx, 4xx, 5xx…) or "error".
    private func timed(_ request: OutboundRequest, trace: TraceHeaders?) async throws -> HTTPAnswer {
        guard let metrics else { return try await once(request, trace: trace) }
        let started = ContinuousClock.now
        func record(_ outcome: String) {
            CoreMetrics.Timer(
                label: "govbus_adapter_external_request_seconds", dimensions: [("system", name), ("outcome", outcome)],
                factory: metrics
            ).recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
        }
        do {
            let answer = try await once(request, trace: trace)
            record("\(answer.status / 100)xx")
            return answer
        } catch {
            record("error")
            throw error
        }
    }

    private func once(_ request: OutboundRequest, trace: TraceHeaders?) async throws -> HTTPAnswer {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = request.method
        outgoing.headers = request.headers
        if let trace {
            outgoing.headers.replaceOrAdd(name: BusHeader.traceparent, value: trace.parent)
            if let state = trace.state { outgoing.headers.replaceOrAdd(name: BusHeader.tracestate, value: state) }
        }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(data: body)) }
        let response = try await http.execute(outgoing, timeout: TimeAmount(policy.timeout))
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: policy.maximumAnswerBytes)
        } catch is NIOTooManyBytesError {
            // The same request would get the same answer: a system gone wrong, or an attacker.
            throw AdapterFailure.permanent("\(name) answered more than \(policy.maximumAnswerBytes) bytes")
        }
        return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }
}
