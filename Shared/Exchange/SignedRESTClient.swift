import Core
import Foundation
import HTTPClient

/// The HTTP part shared by both dialects: parameters in the query string (the form every official client
/// accepts on both exchanges), HMAC signature appended, the API key header, server-time offset, error bodies
/// mapped to `ExchangeError`, and usage headers recorded.
final class SignedRESTClient {
    let exchange: ExchangeName
    let baseURL: String
    let credentials: ExchangeCredentials
    let recvWindowMs: Int
    let timeout: Double
    private let http: HTTPClient
    /// serverTime − localTime, in ms, from the last `syncTime`.
    var timeOffsetMs: Int64 = 0
    private(set) var usage = RateLimitUsage()

    /// False when the base URL names a production host and production was not explicitly allowed: every
    /// request then fails with `productionNotAllowed`, however the adapter was built.
    let permitted: Bool

    init(exchange: ExchangeName, baseURL: String, credentials: ExchangeCredentials, recvWindowMs: Int = 5000, timeout: Double = 10,
         allowProduction: Bool = false, http: HTTPClient? = nil) {
        self.http = http ?? HTTPClient()
        self.exchange = exchange
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        permitted = allowProduction || !ExchangeEnvironment.isProduction(url: baseURL)
        self.credentials = credentials
        self.recvWindowMs = recvWindowMs
        self.timeout = timeout
    }

    private var apiKeyHeader: String { exchange == .binance ? "X-MBX-APIKEY" : "X-MEXC-APIKEY" }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Sends one request. `signed` adds timestamp, recvWindow and signature; `isOrderPlacement` makes
    /// ambiguous failures `outcomeUnknown`. On a -1021/700003 clock rejection the clock is re-synced and the
    /// request sent once more: the exchange did not execute it.
    func send(_ method: String, _ path: String, _ parameters: [(String, String)] = [], signed: Bool = false,
              isOrderPlacement: Bool = false) throws(ExchangeError) -> JSONValue {
        do {
            return try sendOnce(method, path, parameters, signed: signed, isOrderPlacement: isOrderPlacement)
        } catch .timestampOutsideRecvWindow where signed {
            _ = try syncTime()
            return try sendOnce(method, path, parameters, signed: signed, isOrderPlacement: isOrderPlacement)
        }
    }

    /// A signed GET answering a list of orders: `allOrders` and `openOrders` have the same shape on both exchanges.
    func orders(_ path: String, _ parameters: [(String, String)]) throws(ExchangeError) -> [ExchangeOrder] {
        let list = try send("GET", path, parameters, signed: true)
        var orders: [ExchangeOrder] = []
        for o in list.array ?? [] { orders.append(try Field.order(o)) }
        return orders
    }

    /// `allOrders` since a time (at most the last ~24 h, which both exchanges allow in one window), up to 1,000.
    func allOrders(symbol: String, since: Date) throws(ExchangeError) -> [ExchangeOrder] {
        let start = max(since, Date().addingTimeInterval(-86_000))
        return try orders("/api/v3/allOrders", [("symbol", symbol), ("startTime", String(Int64(start.timeIntervalSince1970 * 1000))),
                                                 ("limit", "1000")])
    }

    func syncTime() throws(ExchangeError) -> Date {
        let before = SignedRESTClient.nowMs()
        let body = try sendOnce("GET", "/api/v3/time", [], signed: false, isOrderPlacement: false)
        let after = SignedRESTClient.nowMs()
        guard let server = body["serverTime"]?.int else { throw .unknown(code: nil, message: "no serverTime in /api/v3/time") }
        timeOffsetMs = Int64(server) - (before + after) / 2
        return Date(timeIntervalSince1970: Double(server) / 1000)
    }

    private func sendOnce(_ method: String, _ path: String, _ parameters: [(String, String)], signed: Bool,
                          isOrderPlacement: Bool) throws(ExchangeError) -> JSONValue {
        guard permitted else { throw .productionNotAllowed }
        var query = RequestSigning.encode(parameters)
        if signed {
            let timing = "recvWindow=\(recvWindowMs)&timestamp=\(SignedRESTClient.nowMs() + timeOffsetMs)"
            query = query.isEmpty ? timing : query + "&" + timing
            query += "&signature=" + RequestSigning.signature(secret: credentials.apiSecret.reveal(), payload: query)
        }
        var headers: [(name: String, value: String)] = [(apiKeyHeader, credentials.apiKey.reveal())]
        if exchange == .mexc { headers.append(("Content-Type", "application/json")) }
        let url = baseURL + path + (query.isEmpty ? "" : "?" + query)
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: method, url: url, headers: headers, timeout: timeout,
                                                 freshConnection: isOrderPlacement))
        } catch {
            if error.sent && isOrderPlacement { throw .outcomeUnknown("\(error.kind): \(error.message)") }
            throw .unavailable(error.message)
        }
        recordUsage(response)
        let body = response.json()
        let code = body?["code"]?.int
        let failed = !(200..<300).contains(response.status) || (code != nil && code != 0 && code != 200 && body?["msg"] != nil)
        if failed {
            let message = body?["msg"]?.string ?? String(response.text.prefix(200))
            throw ExchangeErrorMapping.map(exchange: exchange, status: response.status, code: code, message: message,
                                           retryAfter: response.header("retry-after").flatMap { Int($0) },
                                           isOrderPlacement: isOrderPlacement)
        }
        guard let body else {
            if isOrderPlacement { throw .outcomeUnknown("unparseable response (HTTP \(response.status))") }
            throw .unknown(code: nil, message: "response is not JSON (HTTP \(response.status))")
        }
        return body
    }

    private func recordUsage(_ response: HTTPResponse) {
        if let w = response.header("x-mbx-used-weight-1m").flatMap({ Int($0) }) { usage.usedWeight1m = w }
        if let c = response.header("x-mbx-order-count-10s").flatMap({ Int($0) }) { usage.orderCount10s = c }
        if let c = response.header("x-mbx-order-count-1d").flatMap({ Int($0) }) { usage.orderCount1d = c }
    }
}

/// Field readers shared by the dialects' response parsers.
enum Field {
    static func decimal(_ value: JSONValue?) -> Decimal? {
        switch value {
        case .string(let s)?: return ExactDecimal.parse(s)
        case .int(let i)?: return Decimal(i)
        // A JSON number arrives as a Double; its shortest text may use an exponent (1e-05), which Decimal reads.
        case .double(let d)? where d.isFinite: return Decimal(string: "\(d)", locale: Locale(identifier: "en_US_POSIX"))
        default: return nil
        }
    }

    static func date(_ value: JSONValue?) -> Date? {
        value?.int.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// An order object of either dialect (Binance numbers, MEXC strings and nulls).
    static func order(_ o: JSONValue) throws(ExchangeError) -> ExchangeOrder {
        guard let id = o["orderId"]?.text, let symbol = o["symbol"]?.string,
              let side = o["side"]?.string.flatMap(OrderSide.init(rawValue:)) else {
            throw .unknown(code: nil, message: "order object without orderId/symbol/side")
        }
        let status = o["status"]?.string.flatMap(ExchangeOrderStatus.init(exchangeText:)) ?? .new
        let fills: [Fill] = (o["fills"]?.array ?? []).compactMap { f in
            guard let price = decimal(f["price"]), let qty = decimal(f["qty"]) else { return nil }
            return Fill(price: price, quantity: qty, commission: decimal(f["commission"]) ?? 0,
                        commissionAsset: f["commissionAsset"]?.string ?? "")
        }
        return ExchangeOrder(
            // In cancel replies `clientOrderId` is the cancel request's own id; the order's is `origClientOrderId`.
            exchangeOrderId: id, clientOrderId: o["origClientOrderId"]?.string ?? o["clientOrderId"]?.string,
            symbol: symbol, side: side, status: status,
            originalQuantity: decimal(o["origQty"]) ?? 0, executedQuantity: decimal(o["executedQty"]) ?? 0,
            cumulativeQuoteQuantity: decimal(o["cummulativeQuoteQty"]) ?? 0, price: decimal(o["price"]) ?? 0,
            fills: fills, updatedAt: date(o["updateTime"]) ?? date(o["transactTime"]) ?? date(o["time"]))
    }

    static func trade(_ t: JSONValue) -> AccountTrade? {
        guard let id = t["id"]?.text, let orderId = t["orderId"]?.text, let symbol = t["symbol"]?.string,
              let price = decimal(t["price"]), let qty = decimal(t["qty"]) else { return nil }
        return AccountTrade(id: id, orderId: orderId, symbol: symbol, price: price, quantity: qty,
                            quoteQuantity: decimal(t["quoteQty"]) ?? price * qty, commission: decimal(t["commission"]) ?? 0,
                            commissionAsset: t["commissionAsset"]?.string ?? "", isBuyer: t["isBuyer"]?.bool ?? false,
                            time: date(t["time"]) ?? Date(timeIntervalSince1970: 0))
    }

    static func balances(_ account: JSONValue) -> [Balance] {
        (account["balances"]?.array ?? []).compactMap { b in
            guard let asset = b["asset"]?.string else { return nil }
            return Balance(asset: asset, free: decimal(b["free"]) ?? 0, locked: decimal(b["locked"]) ?? 0)
        }
    }
}
