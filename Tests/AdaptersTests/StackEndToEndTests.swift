import AMQPTesting
import Foundation
import Glibc
import Testing

/// The whole stack as `govbus up` starts it (core, four adapters, four sandboxes, as child
/// processes) on the test broker, with dossiers submitted through the portal sandbox.
@Suite("The whole stack, end to end", .serialized)
struct StackEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let binary = root.appendingPathComponent(".build/debug/govbus").path

    struct Stack {
        let process: ChildProcess.Running
        let work: URL
        let ports: Int
        var portal: String { "http://127.0.0.1:\(ports + 11)" }
        var payment: String { "http://127.0.0.1:\(ports + 13)" }
        var document: String { "http://127.0.0.1:\(ports + 14)" }

        func stop() async throws {
            process.send(signal: SIGINT)
            let status = try await process.exitStatus(within: .seconds(60))
            if status == nil { process.stop() }
            #expect(status == 0, "govbus up did not stop cleanly")
        }
    }

    static func startStack(
        on broker: TestBroker? = nil, extraArguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> Stack {
        let broker = try broker ?? TestBroker.fromEnvironment()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("govbus-up-\(UUID().uuidString.prefix(8))")
        // Below Linux's ephemeral ports (32768 and up), which the test's own connections take.
        let ports = 20_000 + Int.random(in: 0..<120) * 100
        let process = try ChildProcess.start(
            binary, ["up", "--work", work.path, "--ports", "\(ports)", "--vhost", "e2e-\(ports)", "--fresh"] + extraArguments,
            environment: ["GOVBUS_AMQP_URL": broker.amqpURL, "GOVBUS_MANAGEMENT_URL": broker.managementURL].merging(environment) { $1 },
            errors: FileManager.default.temporaryDirectory.appendingPathComponent("govbus-up-\(ports).log").path)
        let deadline = ContinuousClock.now + .seconds(240)
        while !FileManager.default.fileExists(atPath: work.appendingPathComponent("ready").path) {
            if let status = try await process.exitStatus(within: .milliseconds(500)) {
                throw Failure(description: "govbus up exited with \(status): \(log(work))")
            }
            guard ContinuousClock.now < deadline else {
                process.stop()
                throw Failure(description: "govbus up was not ready within 240 s: \(log(work))")
            }
        }
        return Stack(process: process, work: work, ports: ports)
    }

    static func log(_ work: URL) -> String {
        let logs = work.appendingPathComponent("logs")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? []
        return files.sorted().map { name in
            let text = (try? String(contentsOf: logs.appendingPathComponent(name), encoding: .utf8)) ?? ""
            return "== \(name)\n" + text.split(separator: "\n").suffix(5).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Summary: Decodable {
        var MaHoSo: String
        var kind: String
        var lastStatus: String?
    }

    struct Update: Decodable {
        var TrangThaiGovBus: String
    }

    static func request(_ method: String, _ url: String, json: String? = nil) async throws -> Data {
        var arguments = ["-s", "-f", "-X", method, url, "-H", "Content-Type: application/json"]
        if let json { arguments += ["--data-binary", json] }
        let outcome = try await TestBroker.execute("/usr/bin/curl", arguments)
        guard outcome.status == 0 else { throw Failure(description: "\(method) \(url): curl exit \(outcome.status) \(outcome.errors)") }
        return Data(outcome.output.utf8)
    }

    /// Submits dossiers and waits until each has ended; returns each one's history.
    static func run(_ count: Int, through stack: Stack, mismatchShare: Double, timeout: Duration) async throws
        -> [(summary: Summary, history: [String])]
    {
        let submitted = try JSONSerialization.jsonObject(
            with: try await request(
                "POST", "\(stack.portal)/_sandbox/submit",
                json: #"{"count": \#(count), "paidShare": 0.5, "mismatchShare": \#(mismatchShare), "seed": 42}"#))
        let answer = try #require(submitted as? [String: Any])
        let batch = try #require(answer["batch"] as? String)
        #expect((answer["refused"] as? [String: String])?.isEmpty == true, "\(answer["refused"] ?? "")")
        let ends: Set<String> = ["completed", "rejected", "refunded", "needs-attention"]
        let deadline = ContinuousClock.now + timeout
        var summaries: [Summary] = []
        repeat {
            try await Task.sleep(for: .seconds(1))
            summaries = try JSONDecoder().decode(
                [Summary].self, from: try await request("GET", "\(stack.portal)/_sandbox/batches/\(batch)"))
        } while summaries.contains { !ends.contains($0.lastStatus ?? "") } && ContinuousClock.now < deadline
        var results: [(Summary, [String])] = []
        for summary in summaries {
            let history = try JSONDecoder().decode(
                [Update].self, from: try await request("GET", "\(stack.portal)/api/dossiers/\(summary.MaHoSo)/history"))
            results.append((summary, history.map(\.TrangThaiGovBus)))
        }
        return results
    }

    /// What the portal must have heard, by kind of dossier and how it ended.
    static func checkHistories(_ results: [(summary: Summary, history: [String])], paymentsMayFail: Bool) {
        let open = results.filter { !["completed", "rejected"].contains($0.summary.lastStatus ?? "") }
        #expect(open.isEmpty, "not ended: \(open.map { "\($0.summary.MaHoSo) \($0.history)" })")
        for (summary, history) in results {
            let name = summary.MaHoSo
            #expect(history.first == "submitted", "\(name): \(history)")
            switch summary.kind {
            case "free":
                #expect(history == ["submitted", "identity-verified", "document-issued", "completed"], "\(name): \(history)")
            case "paid":
                if history.last == "rejected" && paymentsMayFail {
                    #expect(history == ["submitted", "identity-verified", "fee-requested", "rejected"], "\(name): \(history)")
                } else {
                    #expect(
                        history == ["submitted", "identity-verified", "fee-requested", "fee-paid", "document-issued", "completed"],
                        "\(name): \(history)")
                }
            case "identity-mismatch":
                #expect(history == ["submitted", "rejected"], "\(name): \(history)")
            default:
                Issue.record("unknown kind \(summary.kind)")
            }
        }
    }

    @Test("200 mixed dossiers: free and paid, identity mismatches, failed payments, the document system down a while")
    func mixedDossiers() async throws {
        let stack = try await Self.startStack()
        do {
            _ = try await Self.request(
                "PUT", "\(stack.payment)/_sandbox/payment", json: #"{"failureShare": 0.2, "payDelayMilliseconds": 100}"#)
            _ = try await Self.request("PUT", "\(stack.document)/_sandbox/faults", json: #"{"latencyMilliseconds": 0, "failureRate": 1, "timeoutRate": 0, "hangSeconds": 60}"#)
            let documentsBack = Task {
                try await Task.sleep(for: .seconds(4))
                _ = try await Self.request("PUT", "\(stack.document)/_sandbox/faults", json: #"{"latencyMilliseconds": 0, "failureRate": 0, "timeoutRate": 0, "hangSeconds": 60}"#)
            }
            let results = try await Self.run(200, through: stack, mismatchShare: 0.1, timeout: .seconds(180))
            try await documentsBack.value
            #expect(results.count == 200)
            Self.checkHistories(results, paymentsMayFail: true)
            let kinds = Dictionary(grouping: results, by: { $0.summary.kind })
            #expect((kinds["identity-mismatch"]?.count ?? 0) > 0)
            let failedPayments = kinds["paid"]?.filter { $0.summary.lastStatus == "rejected" }.count ?? 0
            #expect(failedPayments > 0, "no payment failed: the sandbox's failure share did not work")
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }

    @Test("With 20% of every sandbox's requests failing, every dossier still reaches its end")
    func failingSandboxes() async throws {
        let stack = try await Self.startStack()
        do {
            for port in 11...14 {
                _ = try await Self.request(
                    "PUT", "http://127.0.0.1:\(stack.ports + port)/_sandbox/faults",
                    json: #"{"latencyMilliseconds": 0, "failureRate": 0.2, "timeoutRate": 0, "hangSeconds": 60}"#)
            }
            let results = try await Self.run(100, through: stack, mismatchShare: 0.1, timeout: .seconds(240))
            #expect(results.count == 100)
            Self.checkHistories(results, paymentsMayFail: false)
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }

    @Test("The broker stopped for 10 s while dossiers run, then started again: every dossier still ends, nothing is lost")
    func brokerAway() async throws {
        let broker = try await TestBroker.onOwnThread { try TestBroker.startDedicated() }
        let stack = try await Self.startStack(on: broker)
        do {
            let outage = Task {
                try await Task.sleep(for: .milliseconds(500))
                try await broker.rabbitmqctl("stop_app")
                try await Task.sleep(for: .seconds(10))
                try await broker.rabbitmqctl("start_app")
                try await broker.rabbitmqctl("await_startup", "--timeout", "60")
            }
            let results = try await Self.run(100, through: stack, mismatchShare: 0.1, timeout: .seconds(240))
            try await outage.value
            #expect(results.count == 100)
            Self.checkHistories(results, paymentsMayFail: false)
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
        try await TestBroker.onOwnThread { try broker.stop() }
    }

    @Test("Two portal adapters share the portal's inbox by dossier; one SIGKILLed mid-run: every dossier ends, nothing lost, in order")
    func twoPortalInstances() async throws {
        let broker = try TestBroker.fromEnvironment()
        let stack = try await Self.startStack(on: broker, extraArguments: ["--instances", "portal=2"])
        do {
            // Started together, each instance is the active consumer of its half of the partitions.
            let active = try await Self.activeInboxConsumers(broker, vhost: "e2e-\(stack.ports)", adapter: "portal")
            #expect(active.count == 8, "partitions with an active consumer: \(active)")
            #expect(Set(active.values).count == 2, "connections active on the portal's partitions: \(active)")
            let killer = Task {
                try await Task.sleep(for: .seconds(3))
                let pid = try String(contentsOf: stack.work.appendingPathComponent("logs/portal-2.pid"), encoding: .utf8)
                kill(pid_t(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, SIGKILL)
            }
            let results = try await Self.run(100, through: stack, mismatchShare: 0.1, timeout: .seconds(240))
            try await killer.value
            #expect(results.count == 100)
            // A status the killed instance had sent but not acked comes again from the other: the
            // portal may hear it twice in a row (at least once), never out of order, never not at all.
            let repeated = results.filter { $0.history != Self.withoutRepeats($0.history) }.count
            print("two portal instances: \(repeated) of \(results.count) dossiers heard a status twice in a row after the kill")
            Self.checkHistories(results.map { ($0.summary, Self.withoutRepeats($0.history)) }, paymentsMayFail: false)
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }

    static func withoutRepeats(_ history: [String]) -> [String] {
        history.enumerated().filter { $0.offset == 0 || history[$0.offset - 1] != $0.element }.map(\.element)
    }

    /// Each partition of an adapter's inbox → the client port of the connection that is its active
    /// consumer (management API).
    static func activeInboxConsumers(_ broker: TestBroker, vhost: String, adapter: String) async throws -> [String: Int] {
        let deadline = ContinuousClock.now + .seconds(30)
        var found: [String: Int] = [:]
        repeat {
            let base = broker.managementURL.hasSuffix("/") ? broker.managementURL : broker.managementURL + "/"
            let data = try await request("GET", "\(base)api/consumers/\(vhost)")
            found = [:]
            for entry in (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? [] {
                guard let queue = (entry["queue"] as? [String: Any])?["name"] as? String,
                    queue.hasPrefix("govbus.adapter.\(adapter)."), entry["active"] as? Bool == true,
                    let port = (entry["channel_details"] as? [String: Any])?["peer_port"] as? Int
                else { continue }
                found[queue] = port
            }
            if found.count == 8 && Set(found.values).count == 2 { return found }
            try await Task.sleep(for: .milliseconds(500))
        } while ContinuousClock.now < deadline
        return found
    }

    /// `govbus` as an operator runs it against the stack's console.
    static func govbus(_ stack: Stack, _ arguments: [String]) async throws -> String {
        let passwords = try String(contentsOf: stack.work.appendingPathComponent("passwords"), encoding: .utf8)
        let password = passwords.split(separator: "\n").first { $0.hasPrefix("console-operator ") }?.split(separator: " ").last
        let outcome = try await TestBroker.execute(
            binary, arguments,
            environment: [
                "GOVBUS_CONSOLE_URL": "http://127.0.0.1:\(stack.ports + 20)", "GOVBUS_CONSOLE_USER": "operator",
                "GOVBUS_CONSOLE_PASSWORD": String(password ?? ""),
            ])
        guard outcome.status == 0 else { throw Failure(description: "govbus \(arguments): \(outcome.status) \(outcome.errors)") }
        return outcome.output
    }

    @Test("A document request dead-lettered while the document system was down is replayed once it is back: the dossier completes")
    func deadLetterReplayed() async throws {
        let stack = try await Self.startStack(extraArguments: ["--inbox-retries", "2"])
        do {
            _ = try await Self.request(
                "PUT", "\(stack.document)/_sandbox/faults",
                json: #"{"latencyMilliseconds": 0, "failureRate": 1, "timeoutRate": 0, "hangSeconds": 60}"#)
            let submitted = try JSONSerialization.jsonObject(
                with: try await Self.request(
                    "POST", "\(stack.portal)/_sandbox/submit", json: #"{"count": 1, "paidShare": 0, "mismatchShare": 0, "seed": 7}"#))
            let dossier = try #require(((submitted as? [String: Any])?["submitted"] as? [String])?.first)

            var letter: [String: Any]?
            let deadline = ContinuousClock.now + .seconds(90)
            while letter == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))
                let letters = try JSONSerialization.jsonObject(
                    with: Data(try await Self.govbus(stack, ["dlq", "list", "--json", "--type", "document.issue-requested.v1"]).utf8))
                letter = (letters as? [[String: Any]])?.first { $0["correlationId"] as? String == dossier }
            }
            let id = try #require(letter?["id"] as? Int, "the document request was not dead-lettered")
            #expect((letter?["check"] as? String)?.contains("govbus.adapter.document") == true)

            _ = try await Self.request(
                "PUT", "\(stack.document)/_sandbox/faults",
                json: #"{"latencyMilliseconds": 0, "failureRate": 0, "timeoutRate": 0, "hangSeconds": 60}"#)
            _ = try await Self.govbus(stack, ["dlq", "replay", "\(id)"])

            var history: [String] = []
            let completion = ContinuousClock.now + .seconds(60)
            while history.last != "completed", ContinuousClock.now < completion {
                try await Task.sleep(for: .seconds(1))
                history = try JSONDecoder().decode(
                    [Update].self, from: try await Self.request("GET", "\(stack.portal)/api/dossiers/\(dossier)/history")
                ).map(\.TrangThaiGovBus)
            }
            #expect(history == ["submitted", "identity-verified", "document-issued", "completed"])
            let trace = try await Self.govbus(stack, ["trace", dossier])
            #expect(trace.contains("document.issued.v1"), "\(trace)")
            #expect(trace.contains("operator.dead-letter.replayed"), "\(trace)")
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }

    @Test("The console in headless Chromium: log in, open each page with real traffic behind it, keep a screenshot of each")
    func consoleInBrowser() async throws {
        let stack = try await Self.startStack(extraArguments: ["--inbox-retries", "1"])
        do {
            _ = try await Self.request(
                "PUT", "\(stack.document)/_sandbox/faults",
                json: #"{"latencyMilliseconds": 0, "failureRate": 1, "timeoutRate": 0, "hangSeconds": 60}"#)
            let submitted = try JSONSerialization.jsonObject(
                with: try await Self.request(
                    "POST", "\(stack.portal)/_sandbox/submit", json: #"{"count": 3, "paidShare": 0, "mismatchShare": 0, "seed": 9}"#))
            let dossier = try #require(((submitted as? [String: Any])?["submitted"] as? [String])?.first)
            // Wait for a dead letter in the console's archive.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let letters = try await Self.govbus(stack, ["dlq", "list", "--json"])
                if letters.contains("document.issue-requested.v1") { break }
                try await Task.sleep(for: .seconds(1))
            }
            let passwords = try String(contentsOf: stack.work.appendingPathComponent("passwords"), encoding: .utf8)
            let password = passwords.split(separator: "\n").first { $0.hasPrefix("console-operator ") }?.split(separator: " ").last
            let screenshots = Self.root.appendingPathComponent(".build/console-screenshots").path
            let outcome = try await TestBroker.execute(
                "/usr/bin/env",
                [
                    "python3", Self.root.appendingPathComponent("Tests/BrowserChecks/console_pages.py").path,
                    "http://127.0.0.1:\(stack.ports + 20)", "operator", String(password ?? ""), dossier, screenshots,
                    stack.portal,
                ])
            #expect(outcome.status == 0, "\(outcome.output)\n\(outcome.errors)")
            print(outcome.output)
            for page in ["overview", "dossiers", "dossier", "stuck", "dead-letters", "audit", "overview-updated"] {
                #expect(FileManager.default.fileExists(atPath: "\(screenshots)/\(page).png"), "no screenshot of \(page)")
            }

            // An officer at the counter: a citizen who does not pay online pays in cash, and the
            // officer records it on the dossier's page.
            _ = try await Self.request("PUT", "\(stack.payment)/_sandbox/payment", json: #"{"counterShare": 1}"#)
            let paying = try JSONSerialization.jsonObject(
                with: try await Self.request(
                    "POST", "\(stack.portal)/_sandbox/submit", json: #"{"count": 1, "paidShare": 1, "mismatchShare": 0, "seed": 12}"#))
            let paid = try #require(((paying as? [String: Any])?["submitted"] as? [String])?.first)
            let officer = passwords.split(separator: "\n").first { $0.hasPrefix("console-officer ") }?.split(separator: " ").last
            let counter = try await TestBroker.execute(
                "/usr/bin/env",
                [
                    "python3", Self.root.appendingPathComponent("Tests/BrowserChecks/counter_payment.py").path,
                    "http://127.0.0.1:\(stack.ports + 20)", "officer", String(officer ?? ""), paid, screenshots,
                ])
            #expect(counter.status == 0, "\(counter.output)\n\(counter.errors)")
            print(counter.output)
        } catch {
            Issue.record("\(error)\n\(Self.log(stack.work))")
        }
        try await stack.stop()
    }
}
