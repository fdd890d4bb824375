/// The AMQP headers of the bus's messages, named once: the envelope's fields (Schemas/README.md),
/// the core's notes on what it routed or dead-lettered, and the broker's own that the bus reads.
public enum BusHeader {
    // Set by the sender, covered by the signature.
    public static let keyID = "govbus-key-id"
    public static let signature = "govbus-signature"
    public static let causationID = "govbus-causation-id"
    /// W3C trace context, not signed (a hop may start a new span): an adapter passes it from its
    /// inbox message to its external calls; the core keeps it on what it forwards, while the
    /// messages the core makes itself do not carry one yet.
    public static let traceparent = "traceparent"
    public static let tracestate = "tracestate"

    // Set by the core only; the core strips them from what an adapter sends.
    public static let attempt = "govbus-attempt"
    public static let sender = "govbus-sender"
    /// On a dead letter an operator edited before replaying it: who.
    public static let editedBy = "govbus-edited-by"
    /// On a replayed dead letter that an adapter had rejected: the adapter it goes back to.
    public static let replayTo = "govbus-replay-to"
    /// Why a message was dead-lettered: which check, the reason, where and when.
    public static let errorPrefix = "govbus-error-"
    public static let errorCheck = "govbus-error-check"
    public static let errorReason = "govbus-error-reason"
    public static let errorWhere = "govbus-error-where"
    public static let errorAt = "govbus-error-at"

    // Set by the broker.
    /// Quorum queues: how many times the message was delivered before.
    public static let deliveryCount = "x-delivery-count"
    /// Where and why the broker dead-lettered a message.
    public static let death = "x-death"
}
