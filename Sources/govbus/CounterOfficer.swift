import Foundation
import Synchronization

/// The demo's officer at the one-stop counter. The payment sandbox's citizens who do not pay
/// online (its `counterShare`) come to the counter instead; once a dossier has waited for its fee
/// longer than `patience`, the officer takes the cash and records it in the console, with a
/// receipt number and the fee the core asked.
struct CounterOfficer: Sendable {
    let console: ConsoleClient
    let patience: TimeInterval

    private struct Row: Decodable {
        var dossierId: String
        var updatedAt: Date
    }

    private struct Page: Decodable {
        struct Entry: Decodable {
            var type: String
            var body: String?
        }
        var timeline: [Entry]
    }

    /// The dossiers whose fee the officer took.
    final class Receipts: Sendable {
        private let dossiers = Mutex<Set<String>>([])

        var all: Set<String> { dossiers.withLock { $0 } }
        var count: Int { dossiers.withLock { $0.count } }
        func contains(_ dossier: String) -> Bool { dossiers.withLock { $0.contains(dossier) } }
        func add(_ dossier: String) { dossiers.withLock { _ = $0.insert(dossier) } }
    }

    /// Serves the counter every second until cancelled; `paid` gets each dossier paid there.
    func serve(paid: Receipts) async {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        while !Task.isCancelled {
            do {
                let waiting = try decoder.decode([Row].self, from: try await console.get("/api/dossiers?state=awaiting-payment"))
                for row in waiting where Date().timeIntervalSince(row.updatedAt) > patience {
                    guard !paid.contains(row.dossierId), let amount = try await feeAsked(of: row.dossierId, decoder)
                    else { continue }
                    let receipt = String(format: "DEMO-%05d", paid.count + 1)
                    _ = try await console.post(
                        "/api/dossiers/\(row.dossierId)/counter-payment",
                        json: try JSONSerialization.data(withJSONObject: ["receiptNumber": receipt, "amount": amount]))
                    paid.add(row.dossierId)
                }
            } catch {
                FileHandle.standardError.write(Data("demo: the counter: \(error)\n".utf8))
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The fee the core asked of the dossier, from its timeline.
    private func feeAsked(of dossier: String, _ decoder: JSONDecoder) async throws -> Int? {
        let page = try decoder.decode(Page.self, from: try await console.get("/api/dossiers/\(dossier)"))
        guard let body = page.timeline.last(where: { $0.type == "payment.fee.requested.v1" })?.body,
            let request = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        else { return nil }
        return request["amount"] as? Int
    }
}
