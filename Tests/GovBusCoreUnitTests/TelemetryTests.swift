import Foundation
import GovBusTelemetry
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Synchronization
import Testing

@Suite("/metrics and /health")
struct TelemetryTests {
    @Test("/metrics gives the registry in Prometheus's text format; /health says up (200) or down (503) with why")
    func endpoints() async throws {
        let registry = PrometheusCollectorRegistry()
        Counter(label: "govbus_test_total", dimensions: [("type", "a.b.v1")], factory: PrometheusMetricsFactory(registry: registry))
            .increment(by: 3)
        let healthy = Mutex(true)
        let router = TelemetryServer.router(service: "core", registry: registry) {
            healthy.withLock { $0 }
                ? HealthReport(healthy: true, details: ["broker": "connected"])
                : HealthReport(healthy: false, details: ["problem": "broker connection lost"])
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body).contains(#"govbus_test_total{type="a.b.v1"} 3"#))
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String]
                #expect(body == ["service": "core", "status": "up", "broker": "connected"])
            }
            healthy.withLock { $0 = false }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("broker connection lost"))
            }
        }
    }
}
