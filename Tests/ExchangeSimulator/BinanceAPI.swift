import Core
import Exchange
import Foundation
import Runtime

/// Binance spot REST: `/api/v3/*` and `/sapi/v1/account/apiRestrictions`, with Binance's weights and shapes
/// (decimals as 8-place strings, numeric order ids, FULL order responses with fills).
extension SimServer {
    func binanceEndpoints() -> [String: Endpoint] {
        func fixed(_ w: Int) -> (SimParams) -> Int { { _ in w } }
        return [
            "GET /api/v3/ping": Endpoint(weight: fixed(1), security: .none) { _ in .json([:] as JSONValue) },
            "GET /api/v3/time": Endpoint(weight: fixed(1), security: .none) { [unowned self] _ in .json(["serverTime": .int(nowMs())]) },
            "GET /api/v3/exchangeInfo": Endpoint(weight: fixed(20), security: .none) { [unowned self] c throws(SimError) in
                try binanceExchangeInfo(c.params)
            },
            "GET /api/v3/ticker/price": Endpoint(weight: { $0["symbol"] == nil ? 4 : 2 }, security: .none) { [unowned self] c throws(SimError) in
                try tickerPrice(c.params, symbolsAsJSON: true)
            },
            "GET /api/v3/account": Endpoint(weight: fixed(20), security: .read) { [unowned self] c in
                let omitZero = c.params["omitZeroBalances"] == "true"
                return .json([
                    "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
                    "commissionRates": ["maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000", "seller": "0.00000000"],
                    "canTrade": .bool(c.key!.canTrade), "canWithdraw": .bool(c.key!.canWithdraw), "canDeposit": true,
                    "brokered": false, "requireSelfTradePrevention": false, "preventSor": false,
                    "updateTime": .int(nowMs()), "accountType": "SPOT",
                    "balances": .array(balances(c.account!, omitZero: omitZero, places: 8)),
                    "permissions": ["SPOT"], "uid": .int(354_937_868 + c.account!.id),
                ])
            },
            "GET /sapi/v1/account/apiRestrictions": Endpoint(weight: fixed(1), security: .read) { c in
                let k = c.key!
                return .json([
                    "ipRestrict": .bool(k.ipRestrict), "createTime": .int(Int(k.createdAt.timeIntervalSince1970 * 1000)),
                    "enableReading": .bool(k.canRead), "enableWithdrawals": .bool(k.canWithdraw),
                    "enableInternalTransfer": false, "enableMargin": false, "enableFutures": false,
                    "permitsUniversalTransfer": false, "enableVanillaOptions": false, "enableFixApiTrade": false,
                    "enableFixReadOnly": false, "enableSpotAndMarginTrading": .bool(k.canTrade),
                    "enablePortfolioMarginTrading": false,
                ])
            },
            "GET /sapi/v1/capital/config/getall": Endpoint(weight: fixed(10), security: .read) { _ in .json([] as JSONValue) },
            "POST /api/v3/order": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                try binancePlace(c, testOnly: false)
            },
            "POST /api/v3/order/test": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                try binancePlace(c, testOnly: true)
            },
            "GET /api/v3/order": Endpoint(weight: fixed(4), security: .read) { [unowned self] c throws(SimError) in
                .json(binanceOrder(try findOrder(c)))
            },
            "DELETE /api/v3/order": Endpoint(weight: fixed(1), security: .trade) { [unowned self] c throws(SimError) in
                let order = try cancel(c)
                var o = binanceOrder(order).object!
                for k in ["time", "updateTime", "isWorking", "workingTime", "stopPrice", "icebergQty"] { o[k] = nil }
                o["origClientOrderId"] = .string(order.clientOrderId)
                o["clientOrderId"] = .string(c.params["newClientOrderId"] ?? SimEngine.generatedClientId())
                o["transactTime"] = .int(nowMs())
                return .json(.object(o))
            },
            "GET /api/v3/openOrders": Endpoint(weight: { $0["symbol"] == nil ? 80 : 6 }, security: .read) { [unowned self] c throws(SimError) in
                if let s = c.params["symbol"], engine.symbols[s] == nil { throw rejection(.unknownSymbol) }
                let open = engine.openOrders(account: c.account!, symbol: c.params["symbol"])
                return .json(.array(open.map(binanceOrder)))
            },
            "GET /api/v3/allOrders": Endpoint(weight: fixed(20), security: .read) { [unowned self] c throws(SimError) in
                .json(.array(try allOrders(c).map(binanceOrder)))
            },
            "GET /api/v3/myTrades": Endpoint(weight: { $0["orderId"] == nil ? 20 : 5 }, security: .read) { [unowned self] c throws(SimError) in
                guard let symbol = c.params["symbol"] else { throw missingParameter("symbol") }
                var list = engine.trades.filter { $0.accountID == c.account!.id && $0.symbol == symbol }
                if let id = c.params["orderId"] { list = list.filter { String($0.orderId) == id } }
                let limit = min(max(Int(c.params["limit"] ?? "500") ?? 500, 1), 1000)
                return .json(.array(list.suffix(limit).map { t in
                    [
                        "symbol": .string(t.symbol), "id": .int(t.id), "orderId": .int(t.orderId), "orderListId": -1,
                        "price": .string(ExactDecimal.text(t.price, places: 8)), "qty": .string(ExactDecimal.text(t.qty, places: 8)),
                        "quoteQty": .string(ExactDecimal.text(t.price * t.qty, places: 8)),
                        "commission": .string(ExactDecimal.text(t.commission, places: 8)), "commissionAsset": .string(t.commissionAsset),
                        "time": .int(ms(t.time)), "isBuyer": .bool(t.isBuyer), "isMaker": .bool(t.isMaker), "isBestMatch": true,
                    ]
                }))
            },
        ]
    }

    private func binanceExchangeInfo(_ p: SimParams) throws(SimError) -> Response {
        var wanted = engine.symbols.keys.sorted()
        if let s = p["symbol"] {
            guard engine.symbols[s] != nil else { throw rejection(.unknownSymbol) }
            wanted = [s]
        } else if let list = p["symbols"] {
            let names = (try? JSONDecoder().decode([String].self, from: Data(list.utf8))) ?? []
            guard !names.isEmpty, names.allSatisfy({ engine.symbols[$0] != nil }) else { throw rejection(.unknownSymbol) }
            wanted = names
        }
        let symbols: [JSONValue] = wanted.map { name in
            let s = engine.symbols[name]!
            func t(_ v: Decimal) -> JSONValue { .string(ExactDecimal.text(v, places: 8)) }
            return [
                "symbol": .string(s.symbol), "status": .string(s.trading ? "TRADING" : "BREAK"),
                "baseAsset": .string(s.base), "baseAssetPrecision": 8, "quoteAsset": .string(s.quote), "quotePrecision": 8,
                "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": false, "ocoAllowed": false, "otoAllowed": false,
                "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": false, "cancelReplaceAllowed": false,
                "amendAllowed": false, "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                "filters": [
                    ["filterType": "PRICE_FILTER", "minPrice": t(s.tickSize), "maxPrice": "1000000.00000000", "tickSize": t(s.tickSize)],
                    ["filterType": "LOT_SIZE", "minQty": t(s.minQty), "maxQty": t(s.maxQty), "stepSize": t(s.stepSize)],
                    ["filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": t(s.maxQty), "stepSize": "0.00000000"],
                    ["filterType": "NOTIONAL", "minNotional": t(s.minNotional), "applyMinToMarket": true,
                     "maxNotional": t(s.maxNotional), "applyMaxToMarket": false, "avgPriceMins": 5],
                    ["filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200],
                ],
                "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            ]
        }
        return .json([
            "timezone": "UTC", "serverTime": .int(nowMs()),
            "rateLimits": [
                ["rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": .int(limits.weightPerMinute)],
                ["rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": .int(limits.ordersPer10s)],
                ["rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": .int(limits.ordersPerDay)],
                ["rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 300_000],
            ],
            "exchangeFilters": [], "symbols": .array(symbols),
        ])
    }

    private func binancePlace(_ c: Call, testOnly: Bool) throws(SimError) -> Response {
        let p = c.params
        guard let symbol = p["symbol"] else { throw missingParameter("symbol") }
        guard let side = p["side"].flatMap(OrderSide.init(rawValue:)) else { throw missingParameter("side") }
        guard let type = p["type"] else { throw missingParameter("type") }
        var engineType: String
        switch type {
        case "MARKET":
            engineType = "MARKET"
            if p["quantity"] == nil && p["quoteOrderQty"] == nil {
                throw SimError(status: 400, code: -1102, message: "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
            }
        case "LIMIT":
            guard let tif = p["timeInForce"] else { throw missingParameter("timeInForce") }
            switch tif {
            case "GTC": engineType = "LIMIT"
            case "IOC": engineType = "IOC"
            default: throw SimError(status: 400, code: -1115, message: "Invalid timeInForce.")
            }
            guard p["quantity"] != nil else { throw missingParameter("quantity") }
            guard p["price"] != nil else { throw missingParameter("price") }
        default:
            throw SimError(status: 400, code: -1116, message: "Invalid orderType.")
        }
        let quantity = try decimalParam(p, "quantity")
        let quote = try decimalParam(p, "quoteOrderQty")
        let price = try decimalParam(p, "price")
        let new = SimEngine.NewOrder(symbol: symbol, side: side, type: engineType, quantity: quantity, quoteOrderQty: quote,
                                     price: price, clientOrderId: p["newClientOrderId"])
        if testOnly {
            do { _ = try engine.place(new, account: c.account!, testOnly: true, clientIdPattern: SimServer.binanceClientID) }
            catch { throw rejection(error, side: side) }
            return .json([:] as JSONValue)
        }
        let countHeaders = try countOrder(c.account!)
        let order: SimOrder
        do {
            order = try engine.place(new, account: c.account!, testOnly: false, clientIdPattern: SimServer.binanceClientID)!
        } catch {
            throw rejection(error, side: side)
        }
        var full = binanceOrder(order).object!
        for k in ["time", "updateTime", "isWorking", "stopPrice", "icebergQty"] { full[k] = nil }
        full["transactTime"] = .int(ms(order.time))
        let respType = p["newOrderRespType"] ?? "FULL"
        if respType == "ACK" {
            full = full.filter { ["symbol", "orderId", "orderListId", "clientOrderId", "transactTime"].contains($0.key) }
        } else if respType == "FULL" {
            full["fills"] = .array(order.fills.map { f in
                ["price": .string(ExactDecimal.text(f.price, places: 8)), "qty": .string(ExactDecimal.text(f.qty, places: 8)),
                 "commission": .string(ExactDecimal.text(f.commission, places: 8)), "commissionAsset": .string(f.commissionAsset),
                 "tradeId": .int(f.id)]
            })
        }
        var response = Response.json(.object(full))
        response.headers += countHeaders
        return response
    }

    static func binanceClientID(_ id: String) -> Bool {
        (1...36).contains(id.utf8.count) && id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 }
    }

    func binanceOrder(_ o: SimOrder) -> JSONValue {
        func t(_ v: Decimal) -> JSONValue { .string(ExactDecimal.text(v, places: 8)) }
        return [
            "symbol": .string(o.symbol), "orderId": .int(o.orderId), "orderListId": -1, "clientOrderId": .string(o.clientOrderId),
            "price": t(o.price), "origQty": t(o.origQty), "executedQty": t(o.executedQty), "cummulativeQuoteQty": t(o.cumQuote),
            "status": .string(o.status), "timeInForce": .string(o.timeInForce), "type": .string(o.type == "IOC" ? "LIMIT" : o.type),
            "side": .string(o.side.rawValue), "stopPrice": "0.00000000", "icebergQty": "0.00000000",
            "time": .int(ms(o.time)), "updateTime": .int(ms(o.updateTime)), "isWorking": true, "workingTime": .int(ms(o.time)),
            "origQuoteOrderQty": t(o.origQuoteQty), "selfTradePreventionMode": "NONE",
        ]
    }

    // MARK: shared by both dialects

    /// Finds and cancels the order a DELETE names; anything not open is "unknown order".
    func cancel(_ c: Call) throws(SimError) -> SimOrder {
        let order: SimOrder
        do { order = try findOrder(c) } catch { throw rejection(.unknownOrder) }
        do { try engine.cancel(order, account: c.account!) } catch { throw rejection(error) }
        return order
    }

    func findOrder(_ c: Call) throws(SimError) -> SimOrder {
        guard let symbol = c.params["symbol"] else { throw missingParameter("symbol") }
        guard engine.symbols[symbol] != nil else { throw rejection(.unknownSymbol) }
        let orderId = c.params["orderId"], clientId = c.params["origClientOrderId"]
        if orderId == nil && clientId == nil {
            throw dialect == .binance
                ? SimError(status: 400, code: -1102, message: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
                : SimError(status: 400, code: 700004, message: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null")
        }
        guard let order = engine.find(account: c.account!, symbol: symbol, orderId: orderId, clientOrderId: clientId) else {
            throw orderNotFound()
        }
        return order
    }

    func tickerPrice(_ p: SimParams, symbolsAsJSON: Bool) throws(SimError) -> Response {
        func entry(_ s: String) -> JSONValue {
            ["symbol": .string(s), "price": .string(ExactDecimal.text(engine.prices[s] ?? 0, places: dialect == .binance ? 8 : 2))]
        }
        if let s = p["symbol"] {
            guard engine.symbols[s] != nil else { throw rejection(.unknownSymbol) }
            return .json(entry(s))
        }
        var names = engine.symbols.keys.sorted()
        if let list = p["symbols"] {
            names = symbolsAsJSON ? ((try? JSONDecoder().decode([String].self, from: Data(list.utf8))) ?? [])
                : list.split(separator: ",").map(String.init)
            guard !names.isEmpty, names.allSatisfy({ engine.symbols[$0] != nil }) else { throw rejection(.unknownSymbol) }
        }
        return .json(.array(names.map(entry)))
    }

    func balances(_ account: SimAccount, omitZero: Bool, places: Int?) -> [JSONValue] {
        let assets = Set(account.free.keys).union(account.locked.keys).sorted()
        return assets.compactMap { a in
            let free = account.free[a] ?? 0, locked = account.locked[a] ?? 0
            if omitZero && free == 0 && locked == 0 { return nil }
            func t(_ v: Decimal) -> JSONValue { .string(places.map { ExactDecimal.text(v, places: $0) } ?? ExactDecimal.text(v)) }
            return ["asset": .string(a), "free": t(free), "locked": t(locked)]
        }
    }

    func decimalParam(_ p: SimParams, _ name: String) throws(SimError) -> Decimal? {
        guard let raw = p[name] else { return nil }
        guard let v = ExactDecimal.parse(raw), v >= 0 else {
            throw dialect == .binance
                ? SimError(status: 400, code: -1100, message: "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
                : SimError(status: 400, code: 700008, message: "Illegal characters found in parameter '\(name)'")
        }
        return v
    }

    func nowMs() -> Int { ms(Date()) }
    func ms(_ date: Date) -> Int { Int((date.timeIntervalSince1970 * 1000).rounded(.down)) }
}
