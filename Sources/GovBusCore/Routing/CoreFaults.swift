/// A fault a test switches on in a real `govbus core` process, to prove that a message which kills
/// the core cannot kill it again: with `GOVBUS_TEST_CRASH_ON=<dossier>` in its environment, the
/// core dies on taking any message of that dossier. Nothing a sender controls can switch it on.
public struct CoreFaults: Sendable, Hashable {
    public var crashOnCorrelationID: String?

    public static let none = CoreFaults()

    public init(crashOnCorrelationID: String? = nil) {
        self.crashOnCorrelationID = crashOnCorrelationID
    }

    public static func fromEnvironment(_ environment: [String: String]) -> CoreFaults {
        CoreFaults(crashOnCorrelationID: environment["GOVBUS_TEST_CRASH_ON"].flatMap { $0.isEmpty ? nil : $0 })
    }

    func crashIfAsked(correlationID: String?) {
        guard let crashOnCorrelationID, correlationID == crashOnCorrelationID else { return }
        fatalError("GOVBUS_TEST_CRASH_ON: the core dies on a message of \(crashOnCorrelationID), as the test asked")
    }
}
