import Core
import Foundation
import HTTPClient

/// Binance spot REST (`/api/v3`, `/sapi/v1`).
public final class BinanceAdapter: ExchangeAdapter {
    public let exchange = ExchangeName.binance
    private let client: SignedRESTClient
    private var rulesCache: [String: SymbolRules] = [:]

    /// `allowProduction` must be true for production hosts (from `EXCHANGE_ALLOW_PRODUCTION`); otherwise
    /// every call fails with `productionNotAllowed`. `http`: a client whose kept-alive connections this adapter
    /// may reuse (one per engine worker: not thread-safe); order placements always open a fresh connection.
    public init(baseURL: String, credentials: ExchangeCredentials, recvWindowMs: Int = 5000, timeout: Double = 10,
                allowProduction: Bool = false, http: HTTPClient? = nil) {
        client = SignedRESTClient(exchange: .binance, baseURL: baseURL, credentials: credentials,
                                  recvWindowMs: recvWindowMs, timeout: timeout, allowProduction: allowProduction, http: http)
    }

    public var usage: RateLimitUsage { client.usage }

    public func syncTime() throws(ExchangeError) -> Date { try client.syncTime() }

    /// `GET /sapi/v1/account/apiRestrictions`: spot trading ⇔ `enableSpotAndMarginTrading`,
    /// withdrawals ⇔ `enableWithdrawals`, IP-locked ⇔ `ipRestrict`.
    /// The spot testnet has no `/sapi`: there, read `canTrade` from the account and withdrawal stays unknown.
    public func permissions() throws(ExchangeError) -> KeyPermissions {
        if client.baseURL.contains("testnet.binance.vision") {
            let account = try client.send("GET", "/api/v3/account", signed: true)
            return KeyPermissions(canRead: true, canTrade: account["canTrade"]?.bool ?? false, canWithdraw: nil, ipRestricted: nil)
        }
        let r = try client.send("GET", "/sapi/v1/account/apiRestrictions", signed: true)
        return KeyPermissions(canRead: r["enableReading"]?.bool ?? false,
                              canTrade: r["enableSpotAndMarginTrading"]?.bool ?? false,
                              canWithdraw: r["enableWithdrawals"]?.bool ?? false,
                              ipRestricted: r["ipRestrict"]?.bool)
    }

    public func symbolRules(_ symbol: String) throws(ExchangeError) -> SymbolRules {
        if let cached = rulesCache[symbol] { return cached }
        let info = try client.send("GET", "/api/v3/exchangeInfo", [("symbol", symbol)])
        guard let s = info["symbols"]?[0], s["symbol"]?.string == symbol else { throw .invalidSymbol(symbol) }
        var rules = SymbolRules(symbol: symbol, baseAsset: s["baseAsset"]?.string ?? "", quoteAsset: s["quoteAsset"]?.string ?? "",
                                trading: s["status"]?.string == "TRADING", tickSize: 0, stepSize: 0, minQuantity: 0,
                                maxQuantity: 0, minNotional: 0, maxNotional: 0)
        for f in s["filters"]?.array ?? [] {
            switch f["filterType"]?.string {
            case "PRICE_FILTER":
                rules.tickSize = Field.decimal(f["tickSize"]) ?? 0
            case "LOT_SIZE":
                rules.stepSize = Field.decimal(f["stepSize"]) ?? 0
                rules.minQuantity = Field.decimal(f["minQty"]) ?? 0
                rules.maxQuantity = Field.decimal(f["maxQty"]) ?? 0
            case "NOTIONAL":
                rules.minNotional = Field.decimal(f["minNotional"]) ?? 0
                rules.maxNotional = Field.decimal(f["maxNotional"]) ?? 0
            case "MIN_NOTIONAL":
                rules.minNotional = max(rules.minNotional, Field.decimal(f["minNotional"]) ?? 0)
            default:
                break
            }
        }
        rulesCache[symbol] = rules
        return rules
    }

    public func tickerPrice(_ symbol: String) throws(ExchangeError) -> Decimal {
        let t = try client.send("GET", "/api/v3/ticker/price", [("symbol", symbol)])
        guard let price = Field.decimal(t["price"]) else { throw .unknown(code: nil, message: "no price for \(symbol)") }
        return price
    }

    public func balances() throws(ExchangeError) -> [Balance] {
        Field.balances(try client.send("GET", "/api/v3/account", [("omitZeroBalances", "true")], signed: true))
    }

    public func placeOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder {
        try submitOrder(request)
    }

    /// `newOrderRespType=FULL`: the acknowledgment is the order's state, fills included.
    public func submitOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder {
        var p: [(String, String)] = [("symbol", request.symbol), ("side", request.side.rawValue)]
        switch request.kind {
        case .market:
            p += [("type", "MARKET"), ("quantity", ExactDecimal.text(request.quantity))]
        case .limit(let price, let tif):
            p += [("type", "LIMIT"), ("timeInForce", tif.rawValue), ("quantity", ExactDecimal.text(request.quantity)),
                  ("price", ExactDecimal.text(price))]
        }
        p += [("newClientOrderId", request.clientOrderId), ("newOrderRespType", "FULL")]
        let reply = try client.send("POST", "/api/v3/order", p, signed: true, isOrderPlacement: true)
        // A 2xx we cannot read still means the order may exist.
        do { return try Field.order(reply) } catch { throw .outcomeUnknown("unreadable order reply") }
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
        let list = try client.send("GET", "/api/v3/myTrades", [("symbol", symbol), ("limit", String(min(max(limit, 1), 1000)))], signed: true)
        return (list.array ?? []).compactMap(Field.trade)
    }
}
