import Foundation
public import Hummingbird
import Synchronization

/// What a sandbox can be told to do wrong, so that tests and the demo see the bus cope: add
/// latency, answer a share of requests with 503, or let a share of them hang past the caller's
/// timeout. Set at start (`--latency-ms`, `--failure-rate`, `--timeout-rate`) or while running
/// with `PUT /_sandbox/faults` and a JSON body of the same fields.
public final class SandboxFaults: Sendable {
    public struct Settings: Codable, Sendable, Hashable {
        public var latencyMilliseconds: Int
        /// 0 to 1: the share of requests answered 503.
        public var failureRate: Double
        /// 0 to 1: the share of requests that hang for `hangSeconds`.
        public var timeoutRate: Double
        public var hangSeconds: Int

        public init(latencyMilliseconds: Int = 0, failureRate: Double = 0, timeoutRate: Double = 0, hangSeconds: Int = 60) {
            self.latencyMilliseconds = latencyMilliseconds
            self.failureRate = failureRate
            self.timeoutRate = timeoutRate
            self.hangSeconds = hangSeconds
        }
    }

    private let settings: Mutex<Settings>

    public init(_ settings: Settings = Settings()) {
        self.settings = Mutex(settings)
    }

    public var current: Settings {
        get { settings.withLock { $0 } }
        set { settings.withLock { $0 = newValue } }
    }

    /// Applies the faults to every route but the sandbox's own (`/_sandbox/...`) and `/health`.
    public func middleware<Context: RequestContext>() -> some RouterMiddleware<Context> {
        FaultMiddleware(faults: self)
    }

    /// `GET` and `PUT /_sandbox/faults`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/_sandbox/faults") { _, _ in
            try SandboxResponse.json(self.current)
        }
        router.put("/_sandbox/faults") { request, context in
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let settings = try? JSONDecoder().decode(Settings.self, from: Data(buffer: body)),
                (0...1).contains(settings.failureRate), (0...1).contains(settings.timeoutRate), settings.latencyMilliseconds >= 0
            else {
                throw HTTPError(
                    .badRequest,
                    message: "expected {latencyMilliseconds, failureRate (0-1), timeoutRate (0-1), hangSeconds}")
            }
            self.current = settings
            return try SandboxResponse.json(settings)
        }
    }
}

struct FaultMiddleware<Context: RequestContext>: RouterMiddleware {
    let faults: SandboxFaults

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !request.uri.path.hasPrefix("/_sandbox/"), request.uri.path != "/health" else {
            return try await next(request, context)
        }
        let settings = faults.current
        if settings.latencyMilliseconds > 0 { try await Task.sleep(for: .milliseconds(settings.latencyMilliseconds)) }
        let draw = Double.random(in: 0..<1)
        if draw < settings.timeoutRate {
            try await Task.sleep(for: .seconds(settings.hangSeconds))
        } else if draw < settings.timeoutRate + settings.failureRate {
            throw HTTPError(.serviceUnavailable, message: "sandbox: a failure, as configured")
        }
        return try await next(request, context)
    }
}
