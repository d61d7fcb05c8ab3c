import Core
import Foundation

/// A failed exchange call, classified so callers decide between retry, reject and reconcile.
/// `outcomeUnknown` is distinct from every failure: the request may have been executed (timeout or 5xx after
/// sending, Binance -1000/-1006/-1007); never resend blindly, query by client order id first.
public enum ExchangeError: Error, Equatable, CustomStringConvertible {
    case invalidCredentials(code: Int, message: String)
    case insufficientPermissions(String)
    /// The exchange's per-address limit (request weight; `banned`: 418, the address is blocked for a while). It
    /// applies to every account we trade from this address, so the engine pauses the whole exchange.
    case rateLimited(retryAfterSeconds: Int?, banned: Bool)
    /// One account's order-count limit (Binance -1015): only that account waits.
    case orderRateLimited(retryAfterSeconds: Int?)
    case unavailable(String)
    case insufficientBalance(String)
    case belowMinimum(String)
    case filterRejected(String)
    case timestampOutsideRecvWindow
    case orderNotFound
    case duplicateOrder
    case invalidSymbol(String)
    case rejected(code: Int, message: String)
    case outcomeUnknown(String)
    case productionNotAllowed
    case unknown(code: Int?, message: String)

    /// The error-contract code this failure is reported with.
    public var errorCode: ErrorCode {
        switch self {
        case .invalidCredentials: .invalidCredentials
        case .insufficientPermissions: .insufficientPermissions
        case .rateLimited, .orderRateLimited: .rateLimited
        case .unavailable, .outcomeUnknown, .unknown, .timestampOutsideRecvWindow, .productionNotAllowed: .exchangeUnavailable
        case .insufficientBalance: .insufficientBalance
        case .belowMinimum, .filterRejected: .belowMinimumOrder
        case .orderNotFound: .notFound
        case .duplicateOrder: .conflict
        case .invalidSymbol, .rejected: .validationFailed
        }
    }

    /// True when the request certainly was not executed and may be sent again unchanged (same client order id).
    public var isSafeToRetry: Bool {
        switch self {
        case .rateLimited, .orderRateLimited, .timestampOutsideRecvWindow, .unavailable: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .invalidCredentials(let code, let message): "invalid credentials (\(code): \(message))"
        case .insufficientPermissions(let m): "insufficient permissions: \(m)"
        case .rateLimited(let after, let banned): "\(banned ? "IP banned" : "rate limited"), retry after \(after.map(String.init) ?? "?") s"
        case .orderRateLimited(let after): "too many new orders on this account, retry after \(after.map(String.init) ?? "?") s"
        case .unavailable(let m): "exchange unavailable: \(m)"
        case .insufficientBalance(let m): "insufficient balance: \(m)"
        case .belowMinimum(let m): "below minimum: \(m)"
        case .filterRejected(let m): "filter rejected: \(m)"
        case .timestampOutsideRecvWindow: "timestamp outside recvWindow"
        case .orderNotFound: "order not found"
        case .duplicateOrder: "duplicate order"
        case .invalidSymbol(let s): "invalid symbol \(s)"
        case .rejected(let code, let message): "rejected (\(code): \(message))"
        case .outcomeUnknown(let m): "outcome unknown: \(m)"
        case .productionNotAllowed: "production exchange URLs need EXCHANGE_ALLOW_PRODUCTION=true"
        case .unknown(let code, let message): "unknown error (\(code.map(String.init) ?? "-"): \(message))"
        }
    }

    public var apiError: APIError {
        APIError(errorCode, description, headers: {
            if case .rateLimited(let after?, _) = self { return ["Retry-After": String(after)] }
            if case .orderRateLimited(let after?) = self { return ["Retry-After": String(after)] }
            return [:]
        }())
    }
}

/// Maps each exchange's error codes (docs/exchange-protocols notes §3) to `ExchangeError`.
public enum ExchangeErrorMapping {
    /// `status` is the HTTP status, `code`/`message` the exchange's JSON error body (when there was one).
    /// `isOrderPlacement` turns ambiguous failures into `outcomeUnknown` instead of `unavailable`.
    public static func map(exchange: ExchangeName, status: Int, code: Int?, message: String, retryAfter: Int?,
                           isOrderPlacement: Bool) -> ExchangeError {
        if status == 418 { return .rateLimited(retryAfterSeconds: retryAfter, banned: true) }
        if status == 429 {
            // Binance answers an account's order-count limit with 429 too (-1015); only the request weight is per address.
            if exchange == .binance && code == -1015 { return .orderRateLimited(retryAfterSeconds: retryAfter) }
            return .rateLimited(retryAfterSeconds: retryAfter, banned: false)
        }
        if status >= 500 {
            return isOrderPlacement ? .outcomeUnknown("HTTP \(status)") : .unavailable("HTTP \(status)")
        }
        guard let code else {
            // 403 without an exchange code is the WAF (both exchanges), not the key: never disable a key for it.
            if status == 403 { return .unavailable("blocked by the exchange's firewall (HTTP 403)") }
            if status == 401 { return .invalidCredentials(code: status, message: message) }
            return .unknown(code: nil, message: "HTTP \(status): \(message)")
        }
        switch exchange {
        case .binance: return binance(code: code, message: message, isOrderPlacement: isOrderPlacement)
        case .mexc: return mexc(code: code, message: message, isOrderPlacement: isOrderPlacement)
        }
    }

    static func binance(code: Int, message: String, isOrderPlacement: Bool) -> ExchangeError {
        switch code {
        case -1000, -1006, -1007:
            return isOrderPlacement ? .outcomeUnknown("\(code) \(message)") : .unavailable("\(code) \(message)")
        case -1003: return .rateLimited(retryAfterSeconds: nil, banned: false)
        case -1015: return .orderRateLimited(retryAfterSeconds: nil)
        case -1008: return .unavailable(message)
        case -1021: return .timestampOutsideRecvWindow
        case -1022, -2014: return .invalidCredentials(code: code, message: message)
        case -2015: return .invalidCredentials(code: code, message: message)
        case -1121: return .invalidSymbol(message)
        case -1013:
            if message.contains("NOTIONAL") || message.contains("LOT_SIZE") || message.contains("MARKET_LOT_SIZE") {
                return .belowMinimum(message)
            }
            return .filterRejected(message)
        case -2010:
            if message.localizedCaseInsensitiveContains("insufficient balance") { return .insufficientBalance(message) }
            if message.localizedCaseInsensitiveContains("duplicate") { return .duplicateOrder }
            if message.localizedCaseInsensitiveContains("not enabled") || message.localizedCaseInsensitiveContains("not permitted") {
                return .insufficientPermissions(message)
            }
            return .rejected(code: code, message: message)
        case -2011, -2013: return .orderNotFound
        default: return .rejected(code: code, message: message)
        }
    }

    static func mexc(code: Int, message: String, isOrderPlacement: Bool) -> ExchangeError {
        switch code {
        case 700001, 700002, 602, 10072, 401: return .invalidCredentials(code: code, message: message)
        case 700006, 700007, 403, 30020, 70011: return .insufficientPermissions(message)
        case 700003, 10073: return .timestampOutsideRecvWindow
        case 429: return .rateLimited(retryAfterSeconds: nil, banned: false)
        case 10101, 30004, 30005: return .insufficientBalance(message)
        case 30002: return .belowMinimum(message)
        case 30003: return .filterRejected(message)
        case 10007, 30014, 30021, -1121: return .invalidSymbol(message)
        case -2011, -2013: return .orderNotFound
        case -2010 where message.localizedCaseInsensitiveContains("duplicate"): return .duplicateOrder
        case 500, 503, 504:
            return isOrderPlacement ? .outcomeUnknown("\(code) \(message)") : .unavailable("\(code) \(message)")
        default: return .rejected(code: code, message: message)
        }
    }
}
