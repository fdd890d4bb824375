public import AMQP
import GovBus

/// The topology of docs/architecture.md, which the core declares (its broker user owns it):
/// adapters publish to `govbus.ingress` (direct, routing key = message type), bound to the core's
/// `govbus.core.ingress`; the core publishes to `govbus.deliver` (topic, `<adapter>.<type>`), bound
/// `<adapter>.#` to each adapter's inbox `govbus.adapter.<adapter>`; delayed retries wait in
/// `govbus.retry.<delay>` and dead-letter back to their origin queue; what cannot be handled goes
/// to `govbus.dead` and on to `govbus.dead-letters`. Every queue is a durable quorum queue.
///
/// With several partitions, the core's ingress is split by dossier: `govbus.ingress` passes each
/// message on to `govbus.core.partitions`, a consistent-hash exchange that hashes its
/// correlation id (the dossier) onto one of the queues `govbus.core.ingress.<n>`. Each has a
/// single active consumer: every core consumes every partition, and the broker delivers a
/// partition's messages to one of them at a time, in order; when that core goes, the next takes
/// over where it stopped. An adapter with `partitions` in the routes file has its inbox split the
/// same way, for its instances to share.
///
/// On a cluster, each queue has `replicas` members (3 when the core's URL names three nodes or
/// more): a queue declared before with another count is migrated (`QueueMigration`), its waiting
/// messages moved, so a deployment that grows from one node to three gets replicated queues.
public struct CoreTopology: Sendable, Hashable {
    public static let ingressExchange = BusAddresses.ingressExchange
    public static let coreQueue = "govbus.core.ingress"
    public static let partitionExchange = "govbus.core.partitions"
    public static let deliverExchange = "govbus.deliver"
    public static let deadExchange = "govbus.dead"
    public static let deadLetterQueue = "govbus.dead-letters"

    /// The queue of partition `index` (with more than one partition).
    public static func partitionQueue(_ index: Int) -> String { "\(coreQueue).\(index)" }

    /// The waits of the delayed retries, shortest first.
    public static let retryDelays: [(label: String, milliseconds: Int)] = [
        ("1s", 1_000), ("10s", 10_000), ("1m", 60_000), ("10m", 600_000),
    ]

    /// Deliveries of one inbox message at most (an adapter retries transient failures with
    /// growing pauses up to 30 s): then it is dead-lettered.
    public static let inboxDeliveryLimit: Int32 = 50

    /// Deliveries of one message to the core at most, the backstop of `CrashWitness`: a message
    /// that kills the core in a way the witness cannot name comes back after each restart, and
    /// after this many goes to the dead letters. Every return counts (a crash, a stop, a lost
    /// connection) for each of the up to 256 messages in the core's hands, so the limit leaves room
    /// for a few restarts during a backlog.
    public static let coreDeliveryLimit: Int32 = 10

    /// A core queue: a quorum queue whose deliveries are limited into the dead letters, consumed by
    /// one core at a time (the others wait to take over).
    public func coreIngress(_ name: String = coreQueue) -> AMQPQueue {
        quorumQueue(
            name,
            arguments: [
                "x-dead-letter-exchange": .string(Self.deadExchange), "x-delivery-limit": .int32(Self.coreDeliveryLimit),
                "x-single-active-consumer": .bool(true),
            ])
    }

    /// The replication a bus gets on a cluster: three members per queue, a majority of which
    /// survives the loss of any one node.
    public static let clusterReplicas = 3

    /// How many members each queue gets on a broker reached through `nodes` node addresses: one
    /// address, the broker's default (every queue of a single node has one member).
    public static func replicas(forNodes nodes: Int) -> Int { min(max(nodes, 1), clusterReplicas) }

    /// A quorum queue of this topology, with its replication on a cluster.
    private func quorumQueue(_ name: String, arguments: AMQPTable = [:]) -> AMQPQueue {
        var arguments = arguments
        if replicas > 1 { arguments["x-quorum-initial-group-size"] = .int32(Int32(replicas)) }
        return AMQPQueue(name, kind: .quorum, arguments: arguments)
    }

    public let adapters: [String]
    public let messageTypes: [String]
    /// How many queues the core's ingress is split into (1: `govbus.core.ingress` alone).
    public let partitions: Int
    /// The adapters whose inbox is split into partitions, and into how many (the routes file's
    /// `partitions`): several instances of such an adapter share its inbox by dossier, as the
    /// cores share theirs.
    public let inboxPartitions: [String: Int]
    /// Members of each quorum queue (`replicas(forNodes:)`); 1 leaves it to a single node.
    public let replicas: Int

    public init(
        adapters: [String], messageTypes: [String], partitions: Int = 1, inboxPartitions: [String: Int] = [:],
        replicas: Int = 1
    ) {
        self.adapters = adapters.sorted()
        self.messageTypes = messageTypes.sorted()
        self.partitions = max(1, partitions)
        self.inboxPartitions = inboxPartitions.filter { $0.value > 1 }
        self.replicas = max(1, replicas)
    }

    /// The queues of an adapter's inbox: `govbus.adapter.<name>`, or its partitions `….0`, `….1`, …
    public func inboxQueues(of adapter: String) -> [String] {
        guard let count = inboxPartitions[adapter] else { return [Self.inbox(of: adapter)] }
        return (0..<count).map { "\(Self.inbox(of: adapter)).\($0)" }
    }

    /// The consistent-hash exchange in front of a partitioned inbox.
    public static func inboxPartitionExchange(of adapter: String) -> String { "\(inbox(of: adapter)).partitions" }

    /// The queues the cores consume.
    public var coreQueues: [String] {
        partitions == 1 ? [Self.coreQueue] : (0..<partitions).map(Self.partitionQueue)
    }

    public static func inbox(of adapter: String) -> String { BusAddresses.inbox(of: adapter) }

    /// Where a message waits before its retry: the exchange of that delay (fanout into its queue).
    /// Publish to it with the origin queue's name as routing key; the queue's TTL then sends the
    /// message back to the origin through the default exchange.
    public static func retryExchange(_ label: String) -> String { "govbus.retry.\(label)" }

    public var exchanges: [AMQPExchange] {
        [
            AMQPExchange(Self.ingressExchange, kind: .direct),
            AMQPExchange(Self.deliverExchange, kind: .topic),
            AMQPExchange(Self.deadExchange, kind: .fanout),
        ] + Self.retryDelays.map { AMQPExchange(Self.retryExchange($0.label), kind: .fanout) }
            + (partitions == 1
                ? []
                : [
                    // The plugin rabbitmq_consistent_hash_exchange; internal: only govbus.ingress feeds it.
                    AMQPExchange(
                        Self.partitionExchange, kind: .custom("x-consistent-hash"), internal: true,
                        arguments: ["hash-property": .string("correlation_id")])
                ])
            + inboxPartitions.keys.sorted().map { adapter in
                AMQPExchange(
                    Self.inboxPartitionExchange(of: adapter), kind: .custom("x-consistent-hash"), internal: true,
                    arguments: ["hash-property": .string("correlation_id")])
            }
    }

    public var queues: [AMQPQueue] {
        coreQueues.map { coreIngress($0) } + [
            quorumQueue(Self.deadLetterQueue),
            // The core's signed audit checkpoints (published through the default exchange), for a
            // shipper to take off the machine; the oldest go past ~70 days of one a minute.
            quorumQueue(AuditCheckpoint.queue, arguments: ["x-max-length": .int32(100_000)]),
        ]
            + adapters.flatMap { adapter in
                inboxQueues(of: adapter).map { queue in
                    // What an adapter rejects, or cannot handle after many deliveries, waits in the
                    // dead letters. A partition has one active consumer: one instance at a time.
                    var arguments: AMQPTable = [
                        "x-dead-letter-exchange": .string(Self.deadExchange), "x-delivery-limit": .int32(Self.inboxDeliveryLimit),
                    ]
                    if inboxPartitions[adapter] != nil { arguments["x-single-active-consumer"] = .bool(true) }
                    return quorumQueue(queue, arguments: arguments)
                }
            }
            + Self.retryDelays.map { delay in
                quorumQueue(
                    Self.retryExchange(delay.label),
                    arguments: [
                        "x-message-ttl": .int32(Int32(delay.milliseconds)),
                        // The default exchange, with the message's own routing key: its origin queue.
                        "x-dead-letter-exchange": .string(""),
                    ])
            }
    }

    public var bindings: [AMQPBinding] {
        ingressBindings
            + adapters.flatMap { adapter -> [AMQPBinding] in
                guard inboxPartitions[adapter] != nil else {
                    return [AMQPBinding(queue: Self.inbox(of: adapter), exchange: Self.deliverExchange, routingKey: "\(adapter).#")]
                }
                let exchange = Self.inboxPartitionExchange(of: adapter)
                return [AMQPBinding.exchange(exchange, from: Self.deliverExchange, routingKey: "\(adapter).#")]
                    + inboxQueues(of: adapter).map { AMQPBinding(queue: $0, exchange: exchange, routingKey: "1") }
            }
            + [AMQPBinding(queue: Self.deadLetterQueue, exchange: Self.deadExchange, routingKey: "")]
            + Self.retryDelays.map {
                AMQPBinding(queue: Self.retryExchange($0.label), exchange: Self.retryExchange($0.label), routingKey: "")
            }
    }

    /// Each message type the catalogue knows goes from `govbus.ingress` to the core: to its queue,
    /// or through the partition exchange to the partitions (each with weight 1).
    private var ingressBindings: [AMQPBinding] {
        if partitions == 1 {
            return messageTypes.map { AMQPBinding(queue: Self.coreQueue, exchange: Self.ingressExchange, routingKey: $0) }
        }
        return messageTypes.map { AMQPBinding.exchange(Self.partitionExchange, from: Self.ingressExchange, routingKey: $0) }
            + coreQueues.map { AMQPBinding(queue: $0, exchange: Self.partitionExchange, routingKey: "1") }
    }

    /// Declares everything; the connection redeclares it after a reconnect. A queue declared
    /// before with other arguments (an older version of this topology) is migrated, its waiting
    /// messages kept; what another layout of partitions left is retired (`Retiring`).
    public func declare(on connection: AMQPConnection) async throws {
        for exchange in exchanges { try await connection.declare(exchange) }
        for queue in queues {
            try await QueueMigration(queue: queue, bindings: bindings.filter { $0.queue == queue.name }).run(on: connection)
        }
        // The old layout's bindings go before the new ones come: no message reaches both.
        let retiring = try await unbindOtherLayouts(on: connection)
        for binding in bindings { try await connection.bind(binding) }
        try await retiring.drain(on: connection)
    }

    /// What an earlier run with another number of partitions left, unbound already: its queues'
    /// waiting messages move to where their dossier goes now, then the queues and the exchange go.
    /// Each dossier's messages wait in one queue, and move in their order. Cores that start
    /// together may both do it: what one has removed, the other finds gone.
    struct Retiring {
        /// A queue, and the exchange (and routing-key prefix before the type) its messages move to.
        var queues: [(name: String, exchange: String, prefix: String)] = []
        var exchanges: [String] = []

        func drain(on connection: AMQPConnection) async throws {
            for queue in queues {
                try await CoreTopology.ignoringMissing {
                    try await QueueMigration.move(
                        from: queue.name, to: queue.exchange, byType: true, routingKeyPrefix: queue.prefix, on: connection)
                    try await connection.deleteQueue(queue.name)
                }
            }
            for exchange in exchanges {
                try await CoreTopology.ignoringMissing { try await connection.deleteExchange(exchange) }
            }
        }
    }

    private func unbindOtherLayouts(on connection: AMQPConnection) async throws -> Retiring {
        var retiring = Retiring()
        if partitions > 1, try await exists(queue: Self.coreQueue, on: connection) {
            for type in messageTypes {
                try await Self.ignoringMissing {
                    try await connection.unbind(AMQPBinding(queue: Self.coreQueue, exchange: Self.ingressExchange, routingKey: type))
                }
            }
            retiring.queues.append((Self.coreQueue, Self.ingressExchange, ""))
        }
        if partitions == 1, try await exists(exchange: Self.partitionExchange, on: connection) {
            for type in messageTypes {
                try await Self.ignoringMissing {
                    try await connection.unbind(.exchange(Self.partitionExchange, from: Self.ingressExchange, routingKey: type))
                }
            }
            retiring.exchanges.append(Self.partitionExchange)
        }
        // Partitions past the number now (all of them, with one partition).
        var index = partitions == 1 ? 0 : partitions
        while try await exists(queue: Self.partitionQueue(index), on: connection) {
            let queue = Self.partitionQueue(index)
            try await Self.ignoringMissing {
                try await connection.unbind(AMQPBinding(queue: queue, exchange: Self.partitionExchange, routingKey: "1"))
            }
            retiring.queues.append((queue, Self.ingressExchange, ""))
            index += 1
        }
        for adapter in inboxPartitions.keys.sorted() where try await exists(queue: Self.inbox(of: adapter), on: connection) {
            // An inbox that was one queue: its messages move to the partitions, by dossier.
            try await Self.ignoringMissing {
                try await connection.unbind(
                    AMQPBinding(queue: Self.inbox(of: adapter), exchange: Self.deliverExchange, routingKey: "\(adapter).#"))
            }
            retiring.queues.append((Self.inbox(of: adapter), Self.deliverExchange, "\(adapter)."))
        }
        return retiring
    }

    /// Runs `body`; a queue or exchange another core removed meanwhile (404) is no error.
    static func ignoringMissing(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as AMQPError where error.replyCode == 404 {
            return
        }
    }

    private func exists(queue: String, on connection: AMQPConnection) async throws -> Bool {
        do {
            _ = try await connection.inspectQueue(queue)
            return true
        } catch let error as AMQPError where error.replyCode == 404 {
            return false
        }
    }

    private func exists(exchange: String, on connection: AMQPConnection) async throws -> Bool {
        do {
            try await connection.inspectExchange(exchange)
            return true
        } catch let error as AMQPError where error.replyCode == 404 {
            return false
        }
    }
}
