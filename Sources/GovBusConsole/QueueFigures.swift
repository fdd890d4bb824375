import AMQP
import AsyncHTTPClient
import Foundation
import GovBusCore
import NIOCore
import NIOFoundationCompat
import Synchronization

/// Each queue of the bus with the figures operators also see on RabbitMQ's own page: depth,
/// unacked, consumers, publish and deliver rates. From the management API; when that is off,
/// from passive declares (depth and consumers only).
final class QueueFigures: Sendable {
    struct Queue: Codable, Sendable {
        var name: String
        var messages: Int
        var unacked: Int?
        var consumers: Int
        var publishRate: Double?
        var deliverRate: Double?
    }

    let managementURL: URL?
    let vhost: String
    let amqpURL: String
    /// Kept between calls: the overview asks every few seconds.
    private let connection = Mutex<AMQPConnection?>(nil)

    init(managementURL: URL?, vhost: String, amqpURL: String) {
        self.managementURL = managementURL
        self.vhost = vhost
        self.amqpURL = amqpURL
    }

    func queues(named names: [String]) async throws -> (source: String, queues: [Queue]) {
        if let managementURL, let fromAPI = try? await fromManagementAPI(managementURL, names: names) {
            return ("management-api", fromAPI)
        }
        return ("passive-declare", try await fromPassiveDeclares(names))
    }

    /// The queue a partition belongs to: the name without its last `.<number>`.
    static func partitioned(_ name: String) -> String {
        guard let dot = name.lastIndex(of: "."), !name[name.index(after: dot)...].isEmpty,
            name[name.index(after: dot)...].allSatisfy(\.isNumber)
        else { return name }
        return String(name[..<dot])
    }

    private func fromManagementAPI(_ base: URL, names: [String]) async throws -> [Queue] {
        guard var components = URLComponents(url: base, resolvingAgainstBaseURL: false), let user = components.user,
            let password = components.password
        else { throw URLError(.userAuthenticationRequired) }
        components.user = nil
        components.password = nil
        let vhostPath = vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? vhost
        components.percentEncodedPath = "/api/queues/\(vhostPath)"
        var request = HTTPClientRequest(url: components.string ?? "")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard response.status.code == 200, let list = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [[String: Any]]
        else { throw URLError(.badServerResponse) }
        let wanted = Set(names)
        return list.compactMap { queue in
            // A partition (`govbus.core.ingress.3`, `govbus.adapter.portal.1`) shows with its queue's.
            guard let name = queue["name"] as? String, wanted.contains(name) || wanted.contains(Self.partitioned(name)) else {
                return nil
            }
            let stats = queue["message_stats"] as? [String: Any]
            func rate(_ key: String) -> Double? { (stats?["\(key)_details"] as? [String: Any])?["rate"] as? Double }
            return Queue(
                name: name, messages: queue["messages"] as? Int ?? 0, unacked: queue["messages_unacknowledged"] as? Int,
                consumers: queue["consumers"] as? Int ?? 0, publishRate: rate("publish") ?? 0,
                deliverRate: rate("deliver_get") ?? 0)
        }.sorted { $0.name < $1.name }
    }

    private func fromPassiveDeclares(_ names: [String]) async throws -> [Queue] {
        let connection: AMQPConnection
        if let kept = self.connection.withLock({ $0 }) {
            connection = kept
        } else {
            let fresh = try await AMQPConnection.connect(url: amqpURL)
            connection = self.connection.withLock { kept in
                if let kept { return kept }
                kept = fresh
                return fresh
            }
            if connection !== fresh { await fresh.close() }
        }
        var queues: [Queue] = []
        for name in names.sorted() {
            guard let status = try? await connection.inspectQueue(name) else { continue }
            queues.append(
                Queue(
                    name: name, messages: Int(status.messageCount), unacked: nil, consumers: Int(status.consumerCount),
                    publishRate: nil, deliverRate: nil))
        }
        return queues
    }
}
