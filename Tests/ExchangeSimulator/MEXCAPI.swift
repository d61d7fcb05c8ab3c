import Core
import Exchange
import Foundation
import Runtime

/// MEXC spot v3 REST: the same paths as Binance with MEXC's differences — string order ids, an ACK-only order
/// reply, IOC as an order type, precision fields instead of filters, no `code` on success, plus the two calls
/// CCXT makes on load (`/api/v1/contract/detail`, `/api/v3/capital/config/getall`).
extension SimServer {
    func mexcEndpoints() -> [String: Endpoint] {
        func fixed(_ w: Int) -> (SimParams) -> Int { { _ in w } }
        return [
            "GET /api/v3/ping": Endpoint(weight: fixed(1), security: .none) { _ in .json([:] as JSONValue) },
            "GET /api/v3/time": Endpoint(weight: fixed(1), security: .none) { [unowned self] _ in .json(["serverTime": .int(nowMs())]) },
            "GET /api/v3/exchangeInfo": Endpoint(weight: fixed(10), security: .none) { [unowned self] c throws(SimError) in
                try mexcExchangeInfo(c.params)
            },
            "GET /api/v3/ticker/price": Endpoint(weight: { $0["symbol"] == nil ? 2 : 1 }, security: .none) { [unowned self] c throws(SimError) in
                try tickerPrice(c.params, symbolsAsJSON: false)
            },
            "GET /api/v1/contract/detail": Endpoint(weight: fixed(1), security: .none) { _ in
                .json(["success": true, "code": 0, "data": []])
            },
            "GET /api/v3/capital/config/getall": Endpoint(weight: fixed(10), security: .read) { _ in .json([] as JSONValue) },
            "GET /api/v3/account": Endpoint(weight: fixed(10), security: .read) { [unowned self] c in
                var account: [String: JSONValue] = ["makerCommission": .null, "takerCommission": .null, "buyerCommission": .null,
                                                    "sellerCommission": .null, "updateTime": .null, "accountType": "SPOT"]
                account["canTrade"] = .bool(c.key!.canTrade)
                account["canWithdraw"] = .bool(c.key!.canWithdraw)
                account["canDeposit"] = true
                account["balances"] = .array(balances(c.account!, omitZero: true, places: nil))
                account["permissions"] = ["SPOT"]
                return .json(.object(account))
            },
            "POST /api/v3/order": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                try mexcPlace(c, testOnly: false)
            },
            "POST /api/v3/order/test": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                try mexcPlace(c, testOnly: true)
            },
            "GET /api/v3/order": Endpoint(weight: fixed(2), security: .read) { [unowned self] c throws(SimError) in
                .json(mexcOrder(try findOrder(c)))
            },
            "DELETE /api/v3/order": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                let order = try cancel(c)
                var o = mexcOrder(order).object!
                o["origClientOrderId"] = .string(order.clientOrderId)
                o["clientOrderId"] = c.params["newClientOrderId"].map(JSONValue.string) ?? .null
                return .json(.object(o))
            },
            "GET /api/v3/openOrders": Endpoint(weight: fixed(3), security: .read) { [unowned self] c throws(SimError) in
                if let s = c.params["symbol"], engine.symbols[s] == nil { throw rejection(.unknownSymbol) }
                let open = engine.openOrders(account: c.account!, symbol: c.params["symbol"])
                return .json(.array(open.map(mexcOrder)))
            },
            "GET /api/v3/allOrders": Endpoint(weight: fixed(10), security: .read) { [unowned self] c throws(SimError) in
                .json(.array(try allOrders(c).map(mexcOrder)))
            },
            "GET /api/v3/myTrades": Endpoint(weight: fixed(10), security: .read) { [unowned self] c throws(SimError) in
                guard let symbol = c.params["symbol"] else { throw missingParameter("symbol") }
                var list = engine.trades.filter { $0.accountID == c.account!.id && $0.symbol == symbol }
                let byMexcId = Dictionary(engine.orders.map { ($0.orderId, $0) }, uniquingKeysWith: { a, _ in a })
                if let id = c.params["orderId"] { list = list.filter { byMexcId[$0.orderId]?.mexcId == id } }
                let limit = min(max(Int(c.params["limit"] ?? "100") ?? 100, 1), 100)
                return .json(.array(list.suffix(limit).map { t in
                    let order = byMexcId[t.orderId]
                    return [
                        "symbol": .string(t.symbol), "id": .string(String(repeating: "0", count: 24) + String(String(t.id, radix: 16).suffix(8)).leftPadded(8)),
                        "orderId": .string(order?.mexcId ?? ""), "orderListId": "-1",
                        "price": .string(ExactDecimal.text(t.price)), "qty": .string(ExactDecimal.text(t.qty)),
                        "quoteQty": .string(ExactDecimal.text(t.price * t.qty)), "commission": .string(ExactDecimal.text(t.commission)),
                        "commissionAsset": .string(t.commissionAsset), "time": .int(ms(t.time)), "isBuyer": .bool(t.isBuyer),
                        "isMaker": .bool(t.isMaker), "isBestMatch": true, "isSelfTrade": false,
                        "clientOrderId": order.map { .string($0.clientOrderId) } ?? .null,
                    ]
                }))
            },
        ]
    }

    private func mexcExchangeInfo(_ p: SimParams) throws(SimError) -> Response {
        var wanted = engine.symbols.keys.sorted()
        if let s = p["symbol"] {
            guard engine.symbols[s] != nil else { throw rejection(.unknownSymbol) }
            wanted = [s]
        } else if let list = p["symbols"] {
            wanted = list.split(separator: ",").map(String.init)
            guard wanted.allSatisfy({ engine.symbols[$0] != nil }) else { throw rejection(.unknownSymbol) }
        }
        let symbols: [JSONValue] = wanted.map { name in
            let s = engine.symbols[name]!
            return [
                "symbol": .string(s.symbol), "status": .string(s.trading ? "1" : "2"), "baseAsset": .string(s.base),
                "baseAssetPrecision": .int(s.basePrecision), "quoteAsset": .string(s.quote), "quotePrecision": .int(s.quotePrecision),
                "quoteAssetPrecision": .int(s.quotePrecision), "baseCommissionPrecision": .int(s.basePrecision),
                "quoteCommissionPrecision": .int(s.quotePrecision), "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
                "isSpotTradingAllowed": true, "isMarginTradingAllowed": false, "quoteOrderQtyMarketAllowed": true,
                "permissions": ["SPOT"], "filters": [], "baseSizePrecision": .string(ExactDecimal.text(s.minQty)),
                "maxQuoteAmount": .string(ExactDecimal.text(s.maxNotional)), "makerCommission": "0",
                "takerCommission": .string(ExactDecimal.text(engine.feeRate)),
                "quoteAmountPrecision": .string(ExactDecimal.text(s.minNotional)),
                "quoteAmountPrecisionMarket": .string(ExactDecimal.text(s.minNotional)),
                "maxQuoteAmountMarket": .string(ExactDecimal.text(s.maxNotional)), "tradeSideType": "1",
                "fullName": .string(s.base), "contractAddress": "", "st": false,
            ]
        }
        return .json(["timezone": "CST", "serverTime": .int(nowMs()), "rateLimits": [], "exchangeFilters": [], "symbols": .array(symbols)])
    }

    private func mexcPlace(_ c: Call, testOnly: Bool) throws(SimError) -> Response {
        let p = c.params
        guard let symbol = p["symbol"] else { throw missingParameter("symbol") }
        guard let side = p["side"].flatMap(OrderSide.init(rawValue:)) else { throw missingParameter("side") }
        guard let type = p["type"] else { throw missingParameter("type") }
        let engineType: String
        switch type {
        case "MARKET":
            engineType = "MARKET"
            if p["quantity"] == nil && p["quoteOrderQty"] == nil { throw missingParameter("quantity") }
        case "LIMIT", "IMMEDIATE_OR_CANCEL":
            engineType = type == "LIMIT" ? "LIMIT" : "IOC"
            guard p["quantity"] != nil else { throw missingParameter("quantity") }
            guard p["price"] != nil else { throw missingParameter("price") }
        default:
            throw SimError(status: 400, code: 30041, message: "current order type can not place order")
        }
        let new = SimEngine.NewOrder(symbol: symbol, side: side, type: engineType, quantity: try decimalParam(p, "quantity"),
                                     quoteOrderQty: try decimalParam(p, "quoteOrderQty"), price: try decimalParam(p, "price"),
                                     clientOrderId: p["newClientOrderId"])
        let pattern: (String) -> Bool = { id in
            (1...32).contains(id.utf8.count) && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 }
        }
        if testOnly {
            do { _ = try engine.place(new, account: c.account!, testOnly: true, clientIdPattern: pattern) }
            catch { throw rejection(error, side: side) }
            return .json([:] as JSONValue)
        }
        _ = try countOrder(c.account!)
        let order: SimOrder
        do { order = try engine.place(new, account: c.account!, testOnly: false, clientIdPattern: pattern)! }
        catch { throw rejection(error, side: side) }
        return .json([
            "symbol": .string(order.symbol), "orderId": .string(order.mexcId), "orderListId": -1,
            "price": .string(ExactDecimal.text(order.price)), "origQty": .string(ExactDecimal.text(order.origQty)),
            "type": .string(type), "side": .string(side.rawValue), "stpMode": "", "transactTime": .int(ms(order.time)),
        ])
    }

    func mexcOrder(_ o: SimOrder) -> JSONValue {
        // MEXC has no EXPIRED: an unfilled IOC/market remainder reads as CANCELED / PARTIALLY_CANCELED.
        var status = o.status
        if status == "EXPIRED" { status = o.executedQty > 0 ? "PARTIALLY_CANCELED" : "CANCELED" }
        if status == "CANCELED" && o.executedQty > 0 { status = "PARTIALLY_CANCELED" }
        return [
            "symbol": .string(o.symbol), "orderId": .string(o.mexcId), "orderListId": "-1", "clientOrderId": .string(o.clientOrderId),
            "price": .string(ExactDecimal.text(o.price)), "origQty": .string(ExactDecimal.text(o.origQty)),
            "executedQty": .string(ExactDecimal.text(o.executedQty)), "cummulativeQuoteQty": .string(ExactDecimal.text(o.cumQuote)),
            "status": .string(status), "timeInForce": nil,
            "type": .string(o.type == "IOC" ? "IMMEDIATE_OR_CANCEL" : o.type), "side": .string(o.side.rawValue),
            "stopPrice": nil, "icebergQty": nil, "time": .int(ms(o.time)), "updateTime": .int(ms(o.updateTime)),
            "isWorking": true, "origQuoteOrderQty": .string(ExactDecimal.text(o.origQuoteQty)),
        ]
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
