import Core
import Crypto
import Exchange
import Foundation
import Runtime

/// One simulated exchange: the pipeline every API request goes through (maintenance, bans, request weight,
/// injected faults, authentication, permissions), then the endpoint. State is in memory, in this process.
final class SimServer {
    /// Who may call an endpoint.
    enum Security { case none, read, trade }

    /// An exchange endpoint: its request weight, security and handler.
    struct Endpoint {
        let weight: (SimParams) -> Int
        let security: Security
        let handler: (Call) throws(SimError) -> Response
    }

    /// What a handler gets: parameters, and for signed endpoints the caller's key and account.
    struct Call {
        let request: Request
        let params: SimParams
        let key: SimKey?
        let account: SimAccount?
    }

    let dialect: Dialect
    let engine = SimEngine()
    var limits = SimLimits()
    var faults: [SimFault] = []
    var endpoints: [String: Endpoint] = [:]
    let logger: Logger

    init(dialect: Dialect, logger: Logger) {
        self.dialect = dialect
        self.logger = logger
        endpoints = dialect == .binance ? binanceEndpoints() : mexcEndpoints()
    }

    func handle(_ req: Request) -> Response {
        if req.path.hasPrefix("/_sim/") { return control(req) }
        let started = Date()
        var response: Response
        var afterFault: SimFault.Kind?
        do {
            (response, afterFault) = try api(req)
        } catch {
            response = error.response()
        }
        if dialect == .binance {
            let used = String(limits.used(ip: req.remoteAddress ?? "-"))
            response.headers += [("X-MBX-USED-WEIGHT-1M", used), ("X-MBX-USED-WEIGHT", used)]
        }
        switch afterFault {
        case .dropResponse?:
            // nginx turns 444 into a closed connection without a response: the order exists, the client never hears.
            return Response(status: 444)
        case .backendTimeout?:
            return timeoutError().response()
        case .errorAfterExecution?:
            return SimError(status: 400, code: -1234, message: "An unexpected answer after execution (injected).").response()
        default:
            _ = started
            return response
        }
    }

    private func api(_ req: Request) throws(SimError) -> (Response, SimFault.Kind?) {
        if let fault = takeFault(method: req.method, path: req.path, kinds: [.maintenance]) {
            _ = fault
            throw maintenanceError()
        }
        guard let endpoint = endpoints["\(req.method) \(req.path)"] else {
            throw SimError(status: 404, code: -1, message: "Unknown endpoint \(req.method) \(req.path)")
        }
        let params = SimParams(req)
        switch limits.charge(ip: req.remoteAddress ?? "-", weight: endpoint.weight(params)) {
        case .ok:
            break
        case .limited(let retryAfter):
            throw rateLimitError(retryAfter: retryAfter, banned: nil)
        case .banned(let until):
            throw rateLimitError(retryAfter: max(1, Int(until.timeIntervalSinceNow.rounded(.up))), banned: until)
        }
        var deferred: SimFault.Kind?
        if let fault = takeFault(method: req.method, path: req.path, kinds: nil) {
            switch fault.kind {
            case .latency: usleep(UInt32(min(fault.latencyMs, 30_000)) * 1000)
            case .http500: throw SimError(status: 500, code: fault.code ?? -1000, message: fault.message ?? "An unknown error occurred while processing the request.")
            case .http503: throw maintenanceError()
            case .rateLimit: throw rateLimitError(retryAfter: 1, banned: nil)
            case .timestamp: throw timestampError()
            case .unknownError: throw SimError(status: 400, code: fault.code ?? -1000, message: fault.message ?? "An unknown error occurred while processing the request.")
            case .backendTimeout, .dropResponse, .errorAfterExecution: deferred = fault.kind
            case .maintenance: throw maintenanceError()
            }
        }
        var key: SimKey?
        var account: SimAccount?
        if endpoint.security != .none {
            let k = try authenticate(req, params)
            if endpoint.security == .trade && !k.canTrade { throw permissionError() }
            if !k.canRead && !k.canTrade { throw permissionError() }
            key = k
            account = engine.accounts[k.accountID]
        }
        let response = try endpoint.handler(Call(request: req, params: params, key: key, account: account))
        return (response, deferred)
    }

    /// API key, signature over the exact bytes, timestamp within recvWindow.
    private func authenticate(_ req: Request, _ p: SimParams) throws(SimError) -> SimKey {
        let header = dialect == .binance ? "x-mbx-apikey" : "x-mexc-apikey"
        guard let apiKey = req.header(header), !apiKey.isEmpty else { throw missingKeyError() }
        guard let key = engine.keys[apiKey] else { throw unknownKeyError() }
        guard p["timestamp"] != nil else { throw missingParameter("timestamp") }
        guard let signature = p.signature, !signature.isEmpty else { throw missingParameter("signature") }
        let expected = RequestSigning.signature(secret: key.secret, payload: p.signedPayload)
        // Binance accepts either hex case; MEXC only lower case.
        let presented = dialect == .binance ? signature.lowercased() : signature
        guard ConstantTime.equals(Array(presented.utf8), Array(expected.utf8)) else { throw signatureError() }
        guard var timestamp = Int64(p["timestamp"]!) else { throw missingParameter("timestamp") }
        if dialect == .binance && timestamp > 10_000_000_000_000 { timestamp /= 1000 }  // µs
        var recvWindow: Int64 = 5000
        if let raw = p["recvWindow"] {
            guard let value = Double(raw), value > 0 else { throw missingParameter("recvWindow") }
            guard value <= 60000 else { throw recvWindowError() }
            recvWindow = Int64(value)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        guard timestamp < now + 1000, now - timestamp <= recvWindow else { throw timestampError(ahead: timestamp >= now + 1000) }
        return key
    }

    /// The first matching fault, consuming one of its remaining uses (or drawing against its ratio).
    private func takeFault(method: String, path: String, kinds: Set<SimFault.Kind>?) -> SimFault? {
        for i in faults.indices {
            let f = faults[i]
            if let kinds, !kinds.contains(f.kind) { continue }
            if kinds == nil && f.kind == .maintenance { continue }
            guard f.matches(method: method, path: path) else { continue }
            if let ratio = f.ratio, Double.random(in: 0..<1) >= ratio { continue }
            if let remaining = f.remaining {
                if remaining <= 0 { continue }
                faults[i].remaining = remaining - 1
            }
            return f
        }
        return nil
    }

    /// Counts an order against the account's order-rate limit; returns the count headers or throws 429.
    func countOrder(_ account: SimAccount) throws(SimError) -> [(name: String, value: String)] {
        let (count10s, countDay, exceeded) = limits.countOrder(account: account.id)
        if let exceeded { throw ordersExceededError(exceeded) }
        return dialect == .binance ? [("X-MBX-ORDER-COUNT-10S", String(count10s)), ("X-MBX-ORDER-COUNT-1D", String(countDay))] : []
    }

    // MARK: dialect errors

    func missingKeyError() -> SimError {
        dialect == .binance ? SimError(status: 401, code: -2014, message: "API-key format invalid.")
            : SimError(status: 400, code: 400, message: "api key required")
    }
    func unknownKeyError() -> SimError {
        dialect == .binance ? SimError(status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action.")
            : SimError(status: 400, code: 10072, message: "Api key info invalid")
    }
    func permissionError() -> SimError {
        dialect == .binance ? SimError(status: 401, code: -2015, message: "Invalid API-key, IP, or permissions for action.")
            : SimError(status: 403, code: 700007, message: "No permission to access the endpoint.")
    }
    func signatureError() -> SimError {
        dialect == .binance ? SimError(status: 400, code: -1022, message: "Signature for this request is not valid.")
            : SimError(status: 400, code: 700002, message: "Signature for this request is not valid.")
    }
    func missingParameter(_ name: String) -> SimError {
        dialect == .binance
            ? SimError(status: 400, code: -1102, message: "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
            : SimError(status: 400, code: 700004, message: "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
    }
    func timestampError(ahead: Bool = false) -> SimError {
        if dialect == .mexc { return SimError(status: 400, code: 700003, message: "Timestamp for this request is outside of the recvWindow.") }
        return SimError(status: 400, code: -1021, message: ahead ? "Timestamp for this request was 1000ms ahead of the server's time."
                        : "Timestamp for this request is outside of the recvWindow.")
    }
    func recvWindowError() -> SimError {
        dialect == .binance ? SimError(status: 400, code: -1131, message: "recvWindow must be less than 60000.")
            : SimError(status: 400, code: 700005, message: "recvWindow must less than 60000")
    }
    func rateLimitError(retryAfter: Int, banned: Date?) -> SimError {
        let headers = [(name: "Retry-After", value: String(retryAfter))]
        if dialect == .mexc {
            return SimError(status: banned == nil ? 429 : 418, code: 429, message: "Too Many Requests", headers: headers)
        }
        if let banned {
            return SimError(status: 418, code: -1003, message: "Way too much request weight used; IP banned until \(Int64(banned.timeIntervalSince1970 * 1000)). Please use WebSocket Streams for live updates to avoid bans.", headers: headers)
        }
        return SimError(status: 429, code: -1003, message: "Too much request weight used; current limit is \(limits.weightPerMinute) request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.", headers: headers)
    }
    func ordersExceededError(_ limit: String) -> SimError {
        dialect == .binance ? SimError(status: 429, code: -1015, message: "Too many new orders; current limit is \(limit).", headers: [("Retry-After", "10")])
            : SimError(status: 429, code: 429, message: "Too Many Requests", headers: [("Retry-After", "10")])
    }
    func maintenanceError() -> SimError {
        dialect == .binance ? SimError(status: 503, code: -1008, message: "Server is currently overloaded with other requests. Please try again in a few minutes.")
            : SimError(status: 503, code: 503, message: "service not available")
    }
    func timeoutError() -> SimError {
        dialect == .binance ? SimError(status: 500, code: -1007, message: "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
            : SimError(status: 504, code: 504, message: "Gateway Time-out")
    }

    /// The engine's rejection in this dialect's words.
    func rejection(_ r: SimRejection, side: OrderSide? = nil) -> SimError {
        let b = dialect == .binance
        switch r {
        case .unknownSymbol: return SimError(status: 400, code: -1121, message: "Invalid symbol.")
        case .badParameter(let p): return missingParameter(p)
        case .illegalClientOrderId:
            return b ? SimError(status: 400, code: -1100, message: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.")
                : SimError(status: 400, code: 700008, message: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,32}$'.")
        case .duplicateOrder: return SimError(status: 400, code: -2010, message: "Duplicate order sent.")
        case .insufficientBalance:
            return b ? SimError(status: 400, code: -2010, message: "Account has insufficient balance for requested action.")
                : (side == .sell ? SimError(status: 400, code: 30004, message: "Insufficient position")
                    : SimError(status: 400, code: 10101, message: "Insufficient balance"))
        case .filter(let f):
            return b ? SimError(status: 400, code: -1013, message: "Filter failure: \(f)")
                : SimError(status: 400, code: f == "LOT_SIZE" ? 30002 : 30003, message: f == "LOT_SIZE" ? "The minimum transaction volume cannot be less than the minimum quantity or precision" : "The maximum transaction volume exceeded")
        case .belowMinNotional(let min):
            return b ? SimError(status: 400, code: -1013, message: "Filter failure: NOTIONAL")
                : SimError(status: 400, code: 30002, message: "The minimum transaction volume cannot be less than:\(ExactDecimal.text(min))USDT")
        case .marketClosed:
            return b ? SimError(status: 400, code: -2010, message: "Market is closed.") : SimError(status: 400, code: 30000, message: "Suspended trading")
        case .unknownOrder:
            return SimError(status: 400, code: -2011, message: b ? "Unknown order sent." : "Unknown order sent")
        }
    }

    /// `GET /api/v3/allOrders` in both dialects: symbol required; startTime/endTime at most 24 h apart on
    /// Binance (-1127), 7 days on MEXC (default: the last 24 h); limit default 500, max 1000.
    func allOrders(_ c: Call) throws(SimError) -> [SimOrder] {
        guard let symbol = c.params["symbol"] else { throw missingParameter("symbol") }
        guard engine.symbols[symbol] != nil else { throw rejection(.unknownSymbol) }
        func time(_ name: String) throws(SimError) -> Date? {
            guard let raw = c.params[name] else { return nil }
            guard let ms = Int64(raw) else { throw missingParameter(name) }
            return Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        var start = try time("startTime"), end = try time("endTime")
        if let s = start, let e = end {
            let span = e.timeIntervalSince(s)
            if dialect == .binance, span > 86_400 {
                throw SimError(status: 400, code: -1127, message: "More than 24 hours between startTime and endTime.")
            }
            if dialect == .mexc, span > 7 * 86_400 { throw SimError(status: 400, code: 700004, message: "query time range exceeds 7 days") }
        }
        if dialect == .mexc, start == nil, end == nil { start = Date().addingTimeInterval(-86_400) }
        if dialect == .binance, let s = start, end == nil { end = s.addingTimeInterval(86_400) }
        let limit = min(max(Int(c.params["limit"] ?? "500") ?? 500, 1), 1000)
        let from = dialect == .binance ? c.params["orderId"].flatMap { Int($0) } : nil
        return engine.allOrders(account: c.account!, symbol: symbol, fromOrderId: from, start: start, end: end, limit: limit)
    }

    func orderNotFound() -> SimError { SimError(status: 400, code: -2013, message: "Order does not exist.") }
}
