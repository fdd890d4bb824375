import Foundation
import GovBusCore

/// How long each step of a dossier took (from the transition that asked it to the one that left
/// it), beside the procedure's timeout for one try of that step: what an operator reads to see
/// where a dossier lost its time, and which system was slow.
struct StepTiming: Codable, Sendable, Hashable {
    var step: String
    var startedAt: Date
    var endedAt: Date?
    /// Until now when the dossier still waits on it.
    var seconds: Double
    /// Tries: the first ask and one more per timeout.
    var tries: Int
    var timeoutSeconds: Double?
    /// Longer than one try's timeout.
    var overTimeout: Bool

    static let stepsByState: [String: DossierStep] = Dictionary(
        uniqueKeysWithValues: DossierStep.allCases.map { (DossierProcess.State.awaiting($0).name, $0) })

    /// The steps in `transitions` (in order), timed against `procedure` when it is known.
    static func steps(
        of transitions: [CoreDataReader.TransitionRow], procedure: ProcedureDefinition?, now: Date = Date()
    ) -> [StepTiming] {
        var timings: [StepTiming] = []
        var open: (index: Int, state: String)?
        for transition in transitions where transition.ignoredBecause == nil {
            if let current = open, transition.from == current.state {
                if transition.to == current.state {
                    // Asked again when its timer fired. A message's cause is `sender/message id`; a
                    // timer's is an id of its own. A message that keeps the state (a payment link
                    // while the fee is awaited) is no new try.
                    if !transition.cause.contains("/") { timings[current.index].tries += 1 }
                    continue
                }
                timings[current.index].endedAt = transition.at
                timings[current.index].seconds = transition.at.timeIntervalSince(timings[current.index].startedAt)
                open = nil
            }
            guard open == nil, let step = stepsByState[transition.to], transition.from != transition.to else { continue }
            let timeout = procedure?.stepTimeouts[step]?.timeInterval
            timings.append(
                StepTiming(
                    step: step.rawValue, startedAt: transition.at, endedAt: nil, seconds: now.timeIntervalSince(transition.at),
                    tries: 1, timeoutSeconds: timeout, overTimeout: false))
            open = (timings.count - 1, transition.to)
        }
        for index in timings.indices {
            if let timeout = timings[index].timeoutSeconds { timings[index].overTimeout = timings[index].seconds > timeout }
        }
        return timings
    }
}

