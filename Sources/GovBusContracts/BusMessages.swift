public import Foundation

/// adapter → core, every few seconds: the adapter is alive.
public struct AdapterHeartbeatV1: GovBusMessage {
    public static let messageType = "bus.adapter.heartbeat.v1"

    public enum Status: String, Codable, Sendable, Hashable {
        case up, degraded
    }

    public var adapter: String
    public var version: String
    public var instance: String
    public var startedAt: Date
    public var sentAt: Date
    public var status: Status

    public init(adapter: String, version: String, instance: String, startedAt: Date, sentAt: Date, status: Status) {
        self.adapter = adapter
        self.version = version
        self.instance = instance
        self.startedAt = startedAt
        self.sentAt = sentAt
        self.status = status
    }
}
