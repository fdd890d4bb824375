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
