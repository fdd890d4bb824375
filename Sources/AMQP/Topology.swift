/// Exchange types RabbitMQ offers out of the box.
public enum AMQPExchangeKind: Sendable, Hashable {
    case direct, topic, fanout, headers
    /// A plugin's exchange type, by name.
    case custom(String)

    var name: String {
        switch self {
        case .direct: "direct"
        case .topic: "topic"
        case .fanout: "fanout"
        case .headers: "headers"
        case .custom(let name): name
        }
    }
}

public struct AMQPExchange: Sendable, Hashable {
    public var name: String
    public var kind: AMQPExchangeKind
    public var durable: Bool
    public var autoDelete: Bool
    public var `internal`: Bool
    public var arguments: AMQPTable

    public init(
        _ name: String, kind: AMQPExchangeKind, durable: Bool = true, autoDelete: Bool = false,
        internal: Bool = false, arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.internal = `internal`
        self.arguments = arguments
    }
}

/// A queue declaration. Quorum queues are durable and neither exclusive nor auto-deleted.
public struct AMQPQueue: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case classic, quorum, stream
    }

    public var name: String
    public var kind: Kind
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    /// `x-message-ttl`, `x-dead-letter-exchange`, `x-delivery-limit`, ...; `x-queue-type` comes from `kind`.
    public var arguments: AMQPTable

    public init(
        _ name: String, kind: Kind = .classic, durable: Bool = true, exclusive: Bool = false,
        autoDelete: Bool = false, arguments: AMQPTable = [:]
    ) {
        self.name = name
        self.kind = kind
        self.durable = kind == .classic ? durable : true
        self.exclusive = kind == .classic ? exclusive : false
        self.autoDelete = kind == .classic ? autoDelete : false
        self.arguments = arguments
    }

    var argumentsWithType: AMQPTable {
        var all = arguments
        if kind != .classic { all["x-queue-type"] = .string(kind.rawValue) }
        return all
    }
}

/// A binding of a queue (or, for `exchange(_:from:routingKey:)`, of an exchange) to an exchange.
public struct AMQPBinding: Sendable, Hashable {
    /// The destination: a queue's name, or an exchange's when `destinationIsExchange`.
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: AMQPTable
    public var destinationIsExchange = false

    public init(queue: String, exchange: String, routingKey: String, arguments: AMQPTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }

    /// An exchange-to-exchange binding: what `source` routes with this key goes on to `destination`.
    public static func exchange(_ destination: String, from source: String, routingKey: String) -> AMQPBinding {
        var binding = AMQPBinding(queue: destination, exchange: source, routingKey: routingKey)
        binding.destinationIsExchange = true
        return binding
    }
}

/// What the broker says of a queue on declare: its name (server-named queues get one here),
/// how many messages are ready and how many consumers it has.
public struct AMQPQueueStatus: Sendable, Hashable {
    public let name: String
    public let messageCount: UInt32
    public let consumerCount: UInt32

    public init(name: String, messageCount: UInt32, consumerCount: UInt32) {
        self.name = name
        self.messageCount = messageCount
        self.consumerCount = consumerCount
    }
}
