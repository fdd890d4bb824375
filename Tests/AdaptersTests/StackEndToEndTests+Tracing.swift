import AMQPTesting
import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing

/// The whole stack with traces on (the standard OTEL_* variables, OTLP/HTTP in JSON), exporting
/// to a collector in the test: one dossier makes one trace, from the portal's push to the
/// document, across every process. In the stack's suite, whose tests take turns: two stacks on
/// one broker would provision the same users.
extension StackEndToEndTests {
    @Test("One dossier, one trace: the portal's push, the portal adapter, its outbox, the core, each adapter and its external calls")
    func oneDossierOneTrace() async throws {
        let collector = SpanCollector()
        let port = 19_000 + Int.random(in: 0..<900)
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            collector.receive(Data(buffer: try await request.body.collect(upTo: 16 << 20)))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let server = Task {
            try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port))).run()
        }
        defer { server.cancel() }
        // The collector answers before the stack starts: a port taken would fail here, not later.
        var answered = false
        for _ in 0..<50 where !answered {
            try await Task.sleep(for: .milliseconds(100))
            answered = (try? await Self.request("POST", "http://127.0.0.1:\(port)/v1/traces", json: "{}")) != nil
        }
        try #require(answered, "the collector did not start on port \(port)")

        let stack = try await Self.startStack(
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "200", "GOVBUS_TRACE_URL": "http://tracing.example/trace/{traceId}",
            ])
        do {
            let submitted = try JSONSerialization.jsonObject(
                with: try await Self.request(
                    "POST", "\(stack.portal)/_sandbox/submit", json: #"{"count": 1, "paidShare": 1, "mismatchShare": 0, "seed": 5}"#))
            let dossier = try #require(((submitted as? [String: Any])?["submitted"] as? [String])?.first)
            var history: [String] = []
            let completion = ContinuousClock.now + .seconds(90)
            while history.last != "completed", ContinuousClock.now < completion {
                try await Task.sleep(for: .seconds(1))
                history = try JSONDecoder().decode(
                    [Self.Update].self,
                    from: try await Self.request("GET", "\(stack.portal)/api/dossiers/\(dossier)/history")
                ).map(\.TrangThaiGovBus)
            }
            #expect(history.last == "completed", "\(history)")

            // Every process has sent its spans once the document's answer is in.
            let services = ["govbus-portal", "govbus-core", "govbus-registry", "govbus-payment", "govbus-document"]
            let deadline = ContinuousClock.now + .seconds(30)
            // The dossier's trace is the one the portal's push began; a gateway's callback begins
            // one of its own, which links to it.
            func dossierTrace() -> (main: [SpanCollector.Span], others: [[SpanCollector.Span]]) {
                let traces = collector.traces(of: dossier)
                let main = traces.values.first { $0.contains { $0.service == "govbus-portal" && $0.kind == "server" } } ?? []
                return (main, traces.values.filter { $0.first?.traceID != main.first?.traceID })
            }
            var trace: [SpanCollector.Span] = []
            while ContinuousClock.now < deadline {
                trace = dossierTrace().main
                let seen = Set(trace.map(\.service))
                if services.allSatisfy(seen.contains), trace.contains(where: { $0.service == "govbus-document" && $0.kind == "client" }) {
                    try await Task.sleep(for: .seconds(2))  // the last batches
                    trace = dossierTrace().main
                    break
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            let callbacks = dossierTrace().others
            let mainID = trace.first?.traceID ?? "-"
            let byID = Dictionary(trace.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
            print("one dossier's trace (\(dossier)): \(trace.count) spans")
            for span in trace.sorted(by: { $0.start < $1.start }) {
                print("  \(span.service.padding(toLength: 16, withPad: " ", startingAt: 0)) \(span.kind.padding(toLength: 9, withPad: " ", startingAt: 0)) \(span.name)")
            }
            // The gateway's payment callback: its own trace, whose handling at the core links to the dossier's.
            print("and \(callbacks.count) trace(s) begun by a callback: \(callbacks.map { $0.map(\.description) })")
            #expect(!callbacks.isEmpty, "no trace of the gateway's callback")
            for callback in callbacks {
                #expect(callback.contains { $0.service == "govbus-payment" && $0.kind == "server" && $0.name == "GET /vnpay/ipn" })
                #expect(callback.contains { $0.service == "govbus-core" && $0.links.contains(mainID) }, "no link to the dossier's trace")
            }
            for service in services {
                #expect(trace.contains { $0.service == service }, "no span from \(service)")
            }
            // The portal's push is the root here: its parent is the portal's own span, outside the bus.
            let roots = trace.filter { byID[$0.parentID] == nil }
            #expect(
                roots.count == 1 && roots.first?.service == "govbus-portal" && roots.first?.name == "POST /portal/dossiers",
                "roots: \(roots)")
            #expect(trace.contains { $0.service == "govbus-portal" && $0.kind == "producer" && $0.name == "send govbus.ingress" })
            #expect(trace.contains { $0.service == "govbus-core" && $0.kind == "consumer" && $0.name.hasPrefix("process govbus.core.ingress") })
            for adapter in ["registry", "payment", "document"] {
                #expect(
                    trace.contains { $0.service == "govbus-\(adapter)" && $0.kind == "consumer" && $0.name.hasPrefix("process govbus.adapter.") },
                    "no consumer span in \(adapter)")
            }
            // The calls to the agencies' systems, with their answers.
            for adapter in ["registry", "document"] {
                let calls = trace.filter { $0.service == "govbus-\(adapter)" && $0.kind == "client" }
                #expect(
                    !calls.isEmpty && calls.allSatisfy { (200..<300).contains(Int($0.attributes["http.response.status_code"] ?? "") ?? 0) },
                    "\(adapter): \(calls.map { "\($0) \($0.attributes)" })")
            }
            // Each span of the core hangs off what the message came with (its publication, or the
            // core's own handling before a retry): a chain from the push to the end.
            for span in trace where span.service == "govbus-core" && span.kind == "consumer" {
                let parent = byID[span.parentID]
                #expect(
                    parent?.kind == "producer" || parent?.service == "govbus-core",
                    "a core span's parent: \(parent.map { "\($0)" } ?? "none")")
            }

            // The console links the dossier to its trace.
            let passwords = try String(contentsOf: stack.work.appendingPathComponent("passwords"), encoding: .utf8)
            let password = passwords.split(separator: "\n").first { $0.hasPrefix("console-viewer ") }?.split(separator: " ").last
            let page = try await consoleDossier(dossier, port: stack.ports + 20, password: String(password ?? ""))
            #expect(page.contains(#"trace\/\#(mainID)""#), "\(page.suffix(300))")
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }

    /// The console's JSON for a dossier, logged in as the viewer.
    func consoleDossier(_ dossier: String, port: Int, password: String) async throws -> String {
        let cookies = FileManager.default.temporaryDirectory.appendingPathComponent("cookies-\(UUID().uuidString)").path
        let console = "http://127.0.0.1:\(port)"
        _ = try await TestBroker.execute(
            "/usr/bin/curl",
            [
                "-s", "-f", "-c", cookies, "-H", "Content-Type: application/json", "-H", "Origin: \(console)",
                "--data-binary", #"{"name": "viewer", "password": "\#(password)"}"#, "\(console)/api/login",
            ])
        return try await TestBroker.execute("/usr/bin/curl", ["-s", "-f", "-b", cookies, "\(console)/api/dossiers/\(dossier)"]).output
    }
}

/// An OTLP/HTTP trace receiver (JSON): keeps every span the processes export.
final class SpanCollector: Sendable {
    struct Span: Sendable, CustomStringConvertible {
        let service: String
        let traceID: String
        let spanID: String
        let parentID: String
        let name: String
        let kind: String
        let start: UInt64
        let attributes: [String: String]
        /// The trace ids of its links.
        let links: [String]

        var description: String { "\(service) \(kind) \(name) \(spanID)←\(parentID)" }
    }

    private let spans = Mutex<[Span]>([])

    func receive(_ body: Data) {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
        var received: [Span] = []
        for resourceSpans in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resource = Self.attributes((resourceSpans["resource"] as? [String: Any])?["attributes"])
            for scope in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    received.append(
                        Span(
                            service: resource["service.name"] ?? "", traceID: Self.id(span["traceId"]), spanID: Self.id(span["spanId"]),
                            parentID: Self.id(span["parentSpanId"]), name: span["name"] as? String ?? "",
                            kind: Self.kind(span["kind"]), start: UInt64(span["startTimeUnixNano"] as? String ?? "") ?? 0,
                            attributes: Self.attributes(span["attributes"]),
                            links: (span["links"] as? [[String: Any]] ?? []).map { Self.id($0["traceId"]) }))
                }
            }
        }
        spans.withLock { $0 += received }
    }

    /// Every span of the traces the dossier's spans are in, by trace.
    func traces(of dossier: String) -> [String: [Span]] {
        spans.withLock { all in
            let traces = Set(all.filter { $0.attributes["govbus.dossier.id"] == dossier }.map(\.traceID))
            return Dictionary(grouping: all.filter { traces.contains($0.traceID) }, by: \.traceID)
        }
    }

    /// An id in hex, whether the exporter wrote hex (as OTLP/JSON says) or protobuf's base64.
    static func id(_ value: Any?) -> String {
        guard let text = value as? String, !text.isEmpty else { return "" }
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        return Data(base64Encoded: text).map { $0.map { String(format: "%02x", $0) }.joined() } ?? text
    }

    static func kind(_ value: Any?) -> String {
        let names = [1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"]
        if let number = value as? Int { return names[number] ?? "\(number)" }
        return (value as? String)?.replacingOccurrences(of: "SPAN_KIND_", with: "").lowercased() ?? "internal"
    }

    static func attributes(_ value: Any?) -> [String: String] {
        var result: [String: String] = [:]
        for attribute in value as? [[String: Any]] ?? [] {
            guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any], let first = value.first else {
                continue
            }
            result[key] = "\(first.value)"
        }
        return result
    }
}
