import Core
import Foundation
import HTTPClient

/// MEXC spot v3 REST. Differences from Binance handled here: IOC is an order *type*; the order reply has no
/// status (a follow-up query fills it in); precision fields instead of filters; no endpoint reports a key's
/// permissions, so trading is probed with `order/test` and withdrawal permission stays unknown.
public final class MEXCAdapter: ExchangeAdapter {
    public let exchange = ExchangeName.mexc
    private let client: SignedRESTClient
    private var rulesCache: [String: SymbolRules] = [:]

    /// `allowProduction` must be true for production hosts (from `EXCHANGE_ALLOW_PRODUCTION`); otherwise
    /// every call fails with `productionNotAllowed`. `http`: a client whose kept-alive connections this adapter
    /// may reuse (one per engine worker: not thread-safe); order placements always open a fresh connection.
    public init(baseURL: String, credentials: ExchangeCredentials, recvWindowMs: Int = 5000, timeout: Double = 10,
                allowProduction: Bool = false, http: HTTPClient? = nil) {
        client = SignedRESTClient(exchange: .mexc, baseURL: baseURL, credentials: credentials,
                                  recvWindowMs: recvWindowMs, timeout: timeout, allowProduction: allowProduction, http: http)
    }

    public var usage: RateLimitUsage { client.usage }

    public func syncTime() throws(ExchangeError) -> Date { try client.syncTime() }

    public func permissions() throws(ExchangeError) -> KeyPermissions {
        _ = try client.send("GET", "/api/v3/account", signed: true)
        var canTrade = true
        do throws(ExchangeError) {
            // A valid, side-effect-free order: minimum size at the current price.
            let rules = try symbolRules("BTCUSDT")
            let price = try tickerPrice("BTCUSDT")
            guard price > 0 else { throw ExchangeError.unavailable("no BTCUSDT price to probe trading permission") }
            let qty = ExactDecimal.ceil(max(rules.minQuantity, rules.minNotional / price), step: rules.stepSize)
            _ = try client.send("POST", "/api/v3/order/test", [
                ("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("quantity", ExactDecimal.text(qty)),
                ("price", ExactDecimal.text(price)),
            ], signed: true)
        } catch .insufficientPermissions {
            canTrade = false
        }
        return KeyPermissions(canRead: true, canTrade: canTrade, canWithdraw: nil, ipRestricted: nil)
    }

    public func symbolRules(_ symbol: String) throws(ExchangeError) -> SymbolRules {
        if let cached = rulesCache[symbol] { return cached }
        let info = try client.send("GET", "/api/v3/exchangeInfo", [("symbol", symbol)])
        guard let s = info["symbols"]?[0], s["symbol"]?.string == symbol else { throw .invalidSymbol(symbol) }
        func step(decimals: Int?) -> Decimal {
            guard let d = decimals, d > 0 else { return 1 }
            return ExactDecimal.parse("0." + String(repeating: "0", count: d - 1) + "1") ?? 1
        }
        let rules = SymbolRules(
            symbol: symbol, baseAsset: s["baseAsset"]?.string ?? "", quoteAsset: s["quoteAsset"]?.string ?? "",
            trading: s["status"]?.text == "1" && (s["isSpotTradingAllowed"]?.bool ?? false),
            tickSize: step(decimals: s["quotePrecision"]?.int), stepSize: step(decimals: s["baseAssetPrecision"]?.int),
            minQuantity: Field.decimal(s["baseSizePrecision"]) ?? 0, maxQuantity: 0,
            minNotional: Field.decimal(s["quoteAmountPrecision"]) ?? 0, maxNotional: Field.decimal(s["maxQuoteAmount"]) ?? 0)
        rulesCache[symbol] = rules
        return rules
    }

    public func tickerPrice(_ symbol: String) throws(ExchangeError) -> Decimal {
        let t = try client.send("GET", "/api/v3/ticker/price", [("symbol", symbol)])
        guard let price = Field.decimal(t["price"]) else { throw .unknown(code: nil, message: "no price for \(symbol)") }
        return price
    }

    public func balances() throws(ExchangeError) -> [Balance] {
        Field.balances(try client.send("GET", "/api/v3/account", signed: true))
    }

    public func placeOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder {
        let ack = try submitOrder(request)
        // The acknowledgment carries no status or fills; the order itself does. The order IS placed now, so no
        // failure of this follow-up may escape as an error (a caller could take it as "not placed" and resend):
        // not-found (MEXC is eventually consistent), rate limits, outages all return the ACK as NEW, to reconcile.
        do {
            return try queryOrder(symbol: request.symbol, clientOrderId: request.clientOrderId)
        } catch {
            return ack
        }
    }

    /// The acknowledgment only (order id, no status or fills): `.new`, with the request's client order id.
    public func submitOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder {
        var p: [(String, String)] = [("symbol", request.symbol), ("side", request.side.rawValue)]
        switch request.kind {
        case .market:
            p += [("type", "MARKET"), ("quantity", ExactDecimal.text(request.quantity))]
        case .limit(let price, let tif):
            p += [("type", tif == .immediateOrCancel ? "IMMEDIATE_OR_CANCEL" : "LIMIT"),
                  ("quantity", ExactDecimal.text(request.quantity)), ("price", ExactDecimal.text(price))]
        }
        p.append(("newClientOrderId", request.clientOrderId))
        let reply = try client.send("POST", "/api/v3/order", p, signed: true, isOrderPlacement: true)
        // A 2xx we cannot read still means the order may exist.
        var ack: ExchangeOrder
        do { ack = try Field.order(reply) } catch { throw .outcomeUnknown("unreadable order reply") }
        ack.clientOrderId = request.clientOrderId
        ack.status = .new
        return ack
    }

    public func queryOrder(symbol: String, clientOrderId: String) throws(ExchangeError) -> ExchangeOrder {
        try Field.order(try client.send("GET", "/api/v3/order", [("symbol", symbol), ("origClientOrderId", clientOrderId)], signed: true))
    }

    public func cancelOrder(symbol: String, clientOrderId: String) throws(ExchangeError) -> ExchangeOrder {
        try Field.order(try client.send("DELETE", "/api/v3/order", [("symbol", symbol), ("origClientOrderId", clientOrderId)], signed: true))
    }

    public func allOrders(symbol: String, since: Date) throws(ExchangeError) -> [ExchangeOrder] {
        try client.allOrders(symbol: symbol, since: since)
    }

    public func openOrders(symbol: String?) throws(ExchangeError) -> [ExchangeOrder] {
        try client.orders("/api/v3/openOrders", symbol.map { [("symbol", $0)] } ?? [])
    }

    public func recentTrades(symbol: String, limit: Int) throws(ExchangeError) -> [AccountTrade] {
        let list = try client.send("GET", "/api/v3/myTrades", [("symbol", symbol), ("limit", String(min(max(limit, 1), 100)))], signed: true)
        return (list.array ?? []).compactMap(Field.trade)
    }
}
