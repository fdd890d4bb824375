/// The broker names that adapters and the core both use: where an adapter publishes, and where it
/// consumes. The rest of the topology is the core's (`CoreTopology`).
public enum BusAddresses {
    /// Every adapter publishes here, with the message type as routing key.
    public static let ingressExchange = "govbus.ingress"

    /// An adapter's inbox: one queue, or partitions `<inbox>.0`, `<inbox>.1`, … of it.
    public static func inbox(of adapter: String) -> String { "govbus.adapter.\(adapter)" }
}
