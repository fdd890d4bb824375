/// Where a dead letter stands: waiting for an operator, or what the operator did with it.
public enum DeadLetterStatus: String, Codable, Sendable, Hashable, CaseIterable {
    case waiting, replayed, discarded
}
