/// A message delivered to a consumer. Settle it once: `ack` when its work is done, `nack` or
/// `reject` when it is not. A delivery received before a reconnect cannot be settled any more: the
/// broker requeued it and delivers it again, with `redelivered` set.
public struct AMQPDelivery: Sendable {
    public let body: [UInt8]
    public let properties: AMQPProperties
    public let exchange: String
    public let routingKey: String
    public let redelivered: Bool
    public let deliveryTag: UInt64
    public let consumerTag: String
    let settler: DeliverySettler

    /// A delivery of a transport other than `AMQPConnection` (an in-memory broker for unit
    /// tests): `settle` is called with its tag once it is acked, nacked or rejected.
    public init(
        body: [UInt8], properties: AMQPProperties, exchange: String, routingKey: String, redelivered: Bool,
        deliveryTag: UInt64, consumerTag: String, settle: @escaping @Sendable (_ deliveryTag: UInt64, Settlement) -> Void
    ) {
        self.init(
            body: body, properties: properties, exchange: exchange, routingKey: routingKey, redelivered: redelivered,
            deliveryTag: deliveryTag, consumerTag: consumerTag, settler: DeliverySettler(settle))
    }

    init(
        body: [UInt8], properties: AMQPProperties, exchange: String, routingKey: String, redelivered: Bool,
        deliveryTag: UInt64, consumerTag: String, settler: DeliverySettler
    ) {
        self.body = body
        self.properties = properties
        self.exchange = exchange
        self.routingKey = routingKey
        self.redelivered = redelivered
        self.deliveryTag = deliveryTag
        self.consumerTag = consumerTag
        self.settler = settler
    }

    public func ack(multiple: Bool = false) {
        settler.settle(deliveryTag: deliveryTag, .ack(multiple: multiple))
    }

    public func nack(requeue: Bool = true, multiple: Bool = false) {
        settler.settle(deliveryTag: deliveryTag, .nack(multiple: multiple, requeue: requeue))
    }

    public func reject(requeue: Bool = true) {
        settler.settle(deliveryTag: deliveryTag, .reject(requeue: requeue))
    }
}
