public import Foundation
import Logging
import OTel
public import ServiceLifecycle
import Synchronization
import Tracing

/// Traces of the bus's hops, exported by swift-otel over OTLP/HTTP when the environment asks for
/// them with the standard variables: `OTEL_TRACES_EXPORTER` (otlp, console), or an
/// `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true`
/// turns them off. Off otherwise: tests and a plain `govbus up` make no spans at all, and the
/// trace headers a message carries are passed on as they came.
public enum BusTracing {
    public static func isRequested(by environment: [String: String]) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if let exporter = environment["OTEL_TRACES_EXPORTER"] { return exporter.lowercased() != "none" }
        return environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
    }

    private static let bootstrapped = Atomic<Bool>(false)
    private static let active = Atomic<Bool>(false)

    /// Whether this process makes spans (its tracer is installed).
    public static var isActive: Bool { active.load(ordering: .relaxed) }

    /// Installs the tracer of this process (`service` is its name in the traces, unless
    /// `OTEL_SERVICE_NAME` says otherwise) when the environment asks for traces. Returns the
    /// exporter, a service to run beside the process's own: it sends the spans in batches, and
    /// the last ones when the process stops. Nil when traces are off, or already installed.
    public static func bootstrap(
        service: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (any Service)? {
        guard isRequested(by: environment), !bootstrapped.exchange(true, ordering: .relaxed) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        let (tracer, exporter) = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(tracer)
        // Only now: a process whose exporter failed to start makes no spans.
        active.store(true, ordering: .relaxed)
        return exporter
    }
}
