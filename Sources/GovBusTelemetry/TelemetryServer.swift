public import Hummingbird
import Foundation
public import Logging
import NIOCore
public import Prometheus

/// What `/health` reports: up, or down with the reason, and a few facts an operator checks first.
public struct HealthReport: Sendable {
    public var healthy: Bool
    public var details: [String: String]

    public init(healthy: Bool, details: [String: String] = [:]) {
        self.healthy = healthy
        self.details = details
    }
}

/// The HTTP endpoint every process of the bus serves: `/metrics` in Prometheus's text format from
/// its registry, and `/health` (200 when healthy, 503 when not, a JSON body either way), so that
/// an orchestrator or `govbus up` can tell whether the process works, not only whether it runs.
public enum TelemetryServer {
    /// An application to run as a service of the process's service group.
    public static func application(
        service: String, host: String, port: Int, registry: PrometheusCollectorRegistry,
        health: @escaping @Sendable () async -> HealthReport, logger: Logger,
        routes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = router(service: service, registry: registry, health: health)
        routes(router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "govbus-\(service)"),
            logger: logger)
    }

    public static func router(
        service: String, registry: PrometheusCollectorRegistry, health: @escaping @Sendable () async -> HealthReport
    ) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("health") { _, _ -> Response in
            let report = await health()
            var body = report.details
            body["service"] = service
            body["status"] = report.healthy ? "up" : "down"
            let json = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(
                status: report.healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json)))
        }
        return router
    }
}
