/// How the sandbox gateway's payments go, read and set with `GET` / `PUT /_sandbox/payment`
/// (a field left out of a `PUT` takes its default).
struct PaymentBehaviour: Codable, Sendable, Hashable {
    /// 0 to 1: the share of payments the citizen cancels (`vnp_ResponseCode` 24).
    var failureShare: Double = 0
    /// IPN calls signed with a wrong secret.
    var badSignature = false
    /// IPN calls with an amount 1,000 VND above the order's.
    var wrongAmount = false
    /// Each IPN call sent twice at once.
    var duplicateIpn = false
    /// How long after the payment page opens the citizen has paid.
    var payDelayMilliseconds = 200
    /// 0 to 1: the share of citizens who never pay online: they pay in cash at the counter, where
    /// an officer records it in the console; their order stays open here.
    var counterShare: Double = 0

    init(payDelayMilliseconds: Int) {
        self.payDelayMilliseconds = payDelayMilliseconds
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        failureShare = try container.decodeIfPresent(Double.self, forKey: .failureShare) ?? failureShare
        badSignature = try container.decodeIfPresent(Bool.self, forKey: .badSignature) ?? badSignature
        wrongAmount = try container.decodeIfPresent(Bool.self, forKey: .wrongAmount) ?? wrongAmount
        duplicateIpn = try container.decodeIfPresent(Bool.self, forKey: .duplicateIpn) ?? duplicateIpn
        payDelayMilliseconds =
            try container.decodeIfPresent(Int.self, forKey: .payDelayMilliseconds) ?? payDelayMilliseconds
        counterShare = try container.decodeIfPresent(Double.self, forKey: .counterShare) ?? counterShare
    }

    /// Why these settings cannot be used, or nil.
    var problem: String? {
        if !(0...1).contains(failureShare) { return "failureShare must be between 0 and 1" }
        if payDelayMilliseconds < 0 { return "payDelayMilliseconds cannot be negative" }
        if !(0...1).contains(counterShare) { return "counterShare must be between 0 and 1" }
        return nil
    }
}
