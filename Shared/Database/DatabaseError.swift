import Core

/// A failure talking to PostgreSQL, classified by SQLSTATE so callers can react to the kind, not the text.
public struct DatabaseError: Error, CustomStringConvertible, APIErrorConvertible {
    /// What went wrong, by SQLSTATE class.
    public enum Kind: Sendable, Equatable {
        /// The server cannot be reached or the connection broke (class 08, 57P01–57P03, CONNECTION_BAD).
        case unavailable
        /// 23505: a unique constraint (the constraint name is in `constraint`).
        case uniqueViolation
        /// 23503
        case foreignKeyViolation
        /// 23514, 23502, 22xxx: the data does not fit the schema.
        case invalidData
        /// 40001 serialization failure, 40P01 deadlock: retry the whole transaction.
        case retryable
        /// 55P03 lock not available, 57014 statement timeout.
        case timeout
        /// A row could not be decoded into the Swift type asked for.
        case decoding
        case other
    }

    public let kind: Kind
    public let sqlState: String?
    public let message: String
    public let constraint: String?

    public init(kind: Kind, sqlState: String? = nil, message: String, constraint: String? = nil) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
    }

    public static func classify(sqlState: String?) -> Kind {
        guard let s = sqlState else { return .unavailable }
        switch s {
        case "23505": return .uniqueViolation
        case "23503": return .foreignKeyViolation
        case "23514", "23502", "23P01": return .invalidData
        case "40001", "40P01": return .retryable
        case "55P03", "57014": return .timeout
        case "57P01", "57P02", "57P03": return .unavailable
        case "08P01": return .other  // protocol violation: our bug, not an outage
        default:
            if s.hasPrefix("08") { return .unavailable }
            if s.hasPrefix("22") { return .invalidData }
            return .other
        }
    }

    public var description: String {
        "DatabaseError(\(kind), sqlstate: \(sqlState ?? "-"), \(message)\(constraint.map { ", constraint: \($0)" } ?? ""))"
    }

    /// Unavailable and retryable failures are 503 with `Retry-After`; everything else is a 500. Both are `SYS_5002`.
    public var apiError: APIError {
        switch kind {
        case .unavailable, .retryable, .timeout:
            return .databaseUnavailable()
        default:
            return APIError(.databaseError, "Database error; the request id identifies it in the logs", status: 500)
        }
    }
}
