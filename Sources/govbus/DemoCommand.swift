import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Submit sample dossiers through the portal sandbox of a running stack and show how they end.",
        discussion: """
            Needs `govbus up` running. The portal sandbox submits the dossiers in citizens' names \
            (a mix of a paid and a free procedure, and a share whose name does not match the \
            registry); the demo follows them until each has ended, then prints a table.
            """)

    @Option(help: "How many dossiers.") var dossiers = 100
    @Option(help: "The portal sandbox (default: that of govbus up's default ports).") var portal = "http://127.0.0.1:18091"
    @Option(help: "0 to 1: the share of dossiers for the paid procedure.") var paidShare = 0.5
    @Option(help: "0 to 1: the share whose applicant's name differs from the registry's.") var mismatchShare = 0.1
    @Option(help: "Seconds to wait for every dossier to end.") var timeout = 300
    @Option(help: "govbus up's work folder: with it, an officer pays some fees at the counter in the console.") var work: String?
    @Option(help: "0 to 1: the share of citizens who pay at the counter rather than online (with --work).") var counterShare = 0.2
    @Option(help: "The console (default: that of govbus up's default ports).") var console = "http://127.0.0.1:18100"
    @Option(help: "The payment sandbox (default: that of govbus up's default ports).") var paymentSandbox = "http://127.0.0.1:18093"
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() async throws {
        let started = Date()
        let run = SampleRun(portal: portal)
        let officer = try await counterOfficer()
        let (batch, refused) = try await run.submit(count: dossiers, paidShare: paidShare, mismatchShare: mismatchShare)
        let paidAtCounter = CounterOfficer.Receipts()
        let counter = Task { await officer?.serve(paid: paidAtCounter) }
        defer { counter.cancel() }
        note("submitted \(dossiers) dossiers (batch \(batch)); \(refused.count) refused by the adapter")
        for (dossier, reason) in refused.sorted(by: { $0.key < $1.key }).prefix(5) { note("  \(dossier): \(reason)") }
        let followed = try await run.follow(batch: batch, expecting: dossiers - refused.count, timeout: .seconds(timeout)) {
            summaries in
            note(
                String(
                    format: "%5.1f s: %d of %d dossiers ended", Date().timeIntervalSince(started),
                    summaries.filter(\.hasEnded).count, summaries.count))
        }
        // The adapter refused these: they never entered the bus.
        let summaries = followed.filter { refused[$0.MaHoSo] == nil }
        print(table(summaries, refused: refused.count, seconds: Date().timeIntervalSince(started)))
        if officer != nil {
            let paid = paidAtCounter.all
            let completed = summaries.filter { paid.contains($0.MaHoSo) && $0.lastStatus == "completed" }.count
            print("\(paid.count) fees paid in cash at the counter, recorded by the officer in the console; \(completed) of those dossiers completed")
        }
        let open = summaries.filter { !$0.hasEnded }
        if !open.isEmpty {
            note("\(open.count) dossiers had not ended within \(timeout) s")
            throw ExitCode(1)
        }
    }

    /// The officer, logged in to the console, once the payment sandbox sends a share of its
    /// citizens to the counter; nil without govbus up's work folder.
    func counterOfficer() async throws -> CounterOfficer? {
        guard let work, counterShare > 0 else { return nil }
        let passwords = try UpCommand.passwords(in: URL(fileURLWithPath: work))
        // The sandbox's other settings stay as they are.
        let current = try await HTTPClient.shared.execute(HTTPClientRequest(url: "\(paymentSandbox)/_sandbox/payment"), timeout: .seconds(30))
        var behaviour =
            (try JSONSerialization.jsonObject(with: Data(buffer: try await current.body.collect(upTo: 64 * 1024))) as? [String: Any]) ?? [:]
        behaviour["counterShare"] = counterShare
        var request = HTTPClientRequest(url: "\(paymentSandbox)/_sandbox/payment")
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: behaviour)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        guard response.status.code == 200 else {
            throw ValidationError("the payment sandbox refused counterShare \(counterShare): \(response.status.code)")
        }
        let console = try await ConsoleClient.login(base: console, name: "officer", password: passwords["console-officer"] ?? "")
        note("an officer at the counter takes the fees of about \(Int(counterShare * 100))% of the paid dossiers")
        return CounterOfficer(console: console, patience: 3)
    }

    func note(_ text: String) {
        FileHandle.standardError.write(Data("demo: \(text)\n".utf8))
    }

    /// Per kind of dossier: how many, how they ended, and how long from submission to the end.
    func table(_ summaries: [SampleRun.Summary], refused: Int, seconds: Double) -> String {
        var lines = ["kind                 dossiers  completed  rejected  refunded  held  not ended   p50 s   p99 s"]
        let kinds = Dictionary(grouping: summaries, by: \.kind)
        for kind in kinds.keys.sorted() + ["all"] {
            let group = kind == "all" ? summaries : kinds[kind]!
            let count = { (status: String) in group.filter { $0.lastStatus == status }.count }
            let ended = group.filter(\.hasEnded)
            let times = ended.compactMap(\.seconds).sorted()
            let p50 = times.isEmpty ? 0 : times[times.count / 2]
            let p99 = times.isEmpty ? 0 : times[min(times.count - 1, Int(Double(times.count) * 0.99))]
            lines.append(
                kind.padding(toLength: 20, withPad: " ", startingAt: 0)
                    + String(
                        format: " %9d %10d %9d %9d %5d %10d %7.2f %7.2f", group.count, count("completed"), count("rejected"),
                        count("refunded"), count("needs-attention"), group.count - ended.count, p50, p99))
        }
        lines.append(String(format: "%d refused at the portal adapter; %.1f s in all", refused, seconds))
        return lines.joined(separator: "\n")
    }
}
