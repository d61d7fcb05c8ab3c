/// The states of an execution (seed §3.5 plus `unknown` and `dead_letter`).
public enum ExecutionStatus: String, Sendable, CaseIterable, Codable {
    case pending, submitted, partial, filled, cancelled, rejected, failed, unknown
    case deadLetter = "dead_letter"

    /// No further automatic change: filled, cancelled, rejected (failed and dead_letter wait for a person or
    /// the retry job).
    public var isTerminal: Bool { self == .filled || self == .cancelled || self == .rejected }

    /// Whether an order may exist on the exchange in this state (so a resend could duplicate it).
    public var mayHaveOrder: Bool { self == .submitted || self == .partial || self == .unknown }
}

/// The legal transitions. Every change is checked here and then written as one guarded UPDATE plus an event.
///
///     pending   → submitted (sent) | cancelled (trading off, kill switch) | rejected (never sendable) | failed
///                 | unknown (the reconciliation found an order for it: ask before anything is sent)
///     submitted → partial | filled | rejected | cancelled | failed | unknown (response lost)
///                 | pending (refused before execution: rate limit, clock, exchange unreachable)
///     partial   → filled | cancelled | failed | unknown
///     unknown   → submitted (resend with the same id, after the exchange said it has no such order)
///                 | partial | filled | cancelled | rejected | failed   (adopted from the exchange)
///     failed    → dead_letter (retries exhausted) | pending (retry) | unknown (retry of one that was sent:
///                 an order may exist, so the exchange is asked before anything is resent)
///     dead_letter → pending | unknown (manual retry, as above) | cancelled (manual cancel)
public enum ExecutionStateMachine {
    static let allowed: [ExecutionStatus: Set<ExecutionStatus>] = [
        .pending: [.submitted, .cancelled, .rejected, .failed, .unknown],
        .submitted: [.partial, .filled, .rejected, .cancelled, .failed, .unknown, .pending],
        .partial: [.filled, .cancelled, .failed, .unknown],
        .unknown: [.submitted, .partial, .filled, .cancelled, .rejected, .failed],
        .failed: [.deadLetter, .pending, .unknown],
        .deadLetter: [.pending, .unknown, .cancelled],
        .filled: [], .cancelled: [], .rejected: [],
    ]

    public static func canMove(from: ExecutionStatus, to: ExecutionStatus) -> Bool {
        allowed[from]?.contains(to) ?? false
    }

    /// Same-state "transitions" are refused too: every event records a real change.
    public static func check(from: ExecutionStatus, to: ExecutionStatus) throws(IllegalTransition) {
        guard canMove(from: from, to: to) else { throw IllegalTransition(from: from, to: to) }
    }
}

/// A state change the machine does not allow.
public struct IllegalTransition: Error, Equatable, CustomStringConvertible {
    public let from: ExecutionStatus
    public let to: ExecutionStatus
    public init(from: ExecutionStatus, to: ExecutionStatus) {
        self.from = from
        self.to = to
    }
    public var description: String { "illegal execution transition \(from.rawValue) → \(to.rawValue)" }
}
