/// The error codes of the error contract (seed spec §8.2), each with its default HTTP status.
/// `AUTH_`, `EXCH_`, `TRADE_` and `SYS_` come from the seed; `REQ_` covers malformed requests
/// (routing, size, JSON, validation), which the seed left implicit. `docs/errors.md` lists them all.
public enum ErrorCode: String, Sendable, Codable, CaseIterable {
    // Authentication and authorisation (1xxx)
    case invalidToken = "AUTH_1001"
    case expiredToken = "AUTH_1002"
    case forbidden = "AUTH_1003"
    case tooManyAttempts = "AUTH_1004"

    // Exchange (2xxx)
    case invalidCredentials = "EXCH_2001"
    case insufficientPermissions = "EXCH_2002"
    case rateLimited = "EXCH_2003"
    case exchangeUnavailable = "EXCH_2004"
    case insufficientBalance = "EXCH_2005"

    // Trading (3xxx)
    case belowMinimumOrder = "TRADE_3001"
    case exceedsRiskLimit = "TRADE_3002"
    case tradingDisabled = "TRADE_3003"
    case belowConfidence = "TRADE_3004"

    // Request (4xxx): the HTTP request itself is unacceptable.
    case malformedRequest = "REQ_4000"
    case notFound = "REQ_4004"
    case methodNotAllowed = "REQ_4005"
    case conflict = "REQ_4009"
    case payloadTooLarge = "REQ_4013"
    case unsupportedMediaType = "REQ_4015"
    case validationFailed = "REQ_4022"
    case tooManyRequests = "REQ_4029"

    // System (5xxx)
    case internalError = "SYS_5001"
    case databaseError = "SYS_5002"

    /// The status a response with this code gets unless the thrower chose another.
    public var defaultStatus: Int {
        switch self {
        case .invalidToken, .expiredToken: 401
        case .forbidden: 403
        case .tooManyAttempts, .rateLimited, .tooManyRequests: 429
        case .invalidCredentials, .insufficientPermissions: 400
        case .exchangeUnavailable: 503
        case .insufficientBalance, .belowMinimumOrder, .exceedsRiskLimit, .tradingDisabled, .belowConfidence: 422
        case .malformedRequest: 400
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .payloadTooLarge: 413
        case .unsupportedMediaType: 415
        case .validationFailed: 422
        case .internalError: 500
        case .databaseError: 503
        }
    }
}
