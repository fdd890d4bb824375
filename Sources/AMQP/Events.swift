/// What happens to a connection over its life, for logs, metrics and tests.
public enum AMQPConnectionEvent: Sendable, Hashable {
    case connected
    /// The connection dropped; recovery starts unless the error rules it out.
    case disconnected(AMQPError)
    /// A reconnect succeeded and channels, topology and consumers are restored.
    case recovered
    /// The broker stopped reading from this connection (e.g. memory alarm); publishes wait.
    case blocked(reason: String)
    case unblocked
    /// The connection ended: `nil` when the application closed it.
    case closed(AMQPError?)
}
