import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Sample dossiers through a running stack, as `govbus demo` and `govbus bench e2e` send them:
/// the portal sandbox submits them in citizens' names, and reports each one's last status.
struct SampleRun {
    struct Summary: Decodable {
        var MaHoSo: String
        var kind: String
        var submittedAt: Double
        var lastStatus: String?
        var lastUpdateAt: Double?

        var hasEnded: Bool { SampleRun.endStatuses.contains(lastStatus ?? "") }
        /// From the portal's submission to the last status it heard.
        var seconds: Double? { lastUpdateAt.map { $0 - submittedAt } }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Where a dossier's road ends: "needs-attention" waits for an operator.
    static let endStatuses: Set<String> = ["completed", "rejected", "refunded", "needs-attention"]

    /// The portal sandbox: `http://127.0.0.1:18091`.
    let portal: String

    /// Submits; returns the batch and the dossiers the portal adapter refused, with why.
    func submit(
        count: Int, paidShare: Double, mismatchShare: Double, perSecond: Double? = nil
    ) async throws -> (batch: String, refused: [String: String]) {
        var fields: [String: Any] = ["count": count, "paidShare": paidShare, "mismatchShare": mismatchShare]
        if let perSecond { fields["perSecond"] = perSecond }
        var request = HTTPClientRequest(url: "\(portal)/_sandbox/submit")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields)))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 64 << 20)
        guard response.status.code == 200,
            let answer = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let batch = answer["batch"] as? String
        else {
            throw Failure(description: "the portal sandbox refused the submission (\(response.status.code)): \(String(buffer: body))")
        }
        return (batch, (answer["refused"] as? [String: String]) ?? [:])
    }

    /// Polls every `interval` until every dossier of the batch has ended or the time is up. (The
    /// times come from the portal's records, not from the polls.)
    func follow(
        batch: String, expecting count: Int, timeout: Duration, every interval: Duration = .milliseconds(500),
        progress: ([Summary]) -> Void
    ) async throws -> [Summary] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "\(portal)/_sandbox/batches/\(batch)"), timeout: .seconds(30))
            let summaries = try JSONDecoder().decode(
                [Summary].self, from: Data(buffer: try await response.body.collect(upTo: 64 << 20)))
            progress(summaries)
            if summaries.filter(\.hasEnded).count >= count || ContinuousClock.now >= deadline { return summaries }
            try await Task.sleep(for: interval)
        }
    }
}
