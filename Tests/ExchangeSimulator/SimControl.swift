import Core
import Exchange
import Foundation
import Runtime

/// The control API under `/_sim/`, used by tests and by `make run` to set the world up:
///
///     POST   /_sim/reset                      everything back to defaults
///     POST   /_sim/accounts                   {api_key, api_secret, can_read?, can_trade?, can_withdraw?, ip_restrict?, balances?}
///     DELETE /_sim/accounts/{api_key}         revoke a key (later calls: -2015 / 10072)
///     POST   /_sim/balances                   {api_key, balances: {"USDT": "100"}}   (sets free balances)
///     POST   /_sim/prices                     {"BTCUSDT": "50000"}   (resting orders that cross fill)
///     POST   /_sim/market                     {slippage_bps?, fee_rate?, liquidity?: {"BTCUSDT": "0.5"}, halted?: ["BTCUSDT"]}
///     POST   /_sim/limits                     {request_weight_per_minute?, orders_per_10s?, ban_seconds?, fresh_window?}
///     POST   /_sim/faults                     {kind, method?, path?, count?, ratio?, latency_ms?, code?, message?}
///     DELETE /_sim/faults
///     GET    /_sim/orders?api_key=…           orders of that key (all when omitted), in this dialect's query format
///     GET    /_sim/state                      counts, for a quick look
extension SimServer {
    func control(_ req: Request) -> Response {
        do {
            return try controlRoute(req)
        } catch let error as APIError {
            return .error(error, requestID: req.requestID)
        } catch {
            return .error(.malformed(String(describing: error)), requestID: req.requestID)
        }
    }

    private func controlRoute(_ req: Request) throws -> Response {
        let route = "\(req.method) \(req.path)"
        switch route {
        case "POST /_sim/reset":
            engine.reset()
            limits.reset()
            faults = []
            return ok()
        case "POST /_sim/accounts":
            let body = try body(req)
            guard let apiKey = body["api_key"]?.string, let secret = body["api_secret"]?.string, !apiKey.isEmpty, !secret.isEmpty else {
                throw APIError.validation([FieldProblem("api_key", "api_key and api_secret are required")])
            }
            engine.createAccount(key: nil, apiKey: apiKey, secret: secret, balances: try decimals(body["balances"]),
                                 canRead: body["can_read"]?.bool ?? true, canTrade: body["can_trade"]?.bool ?? true,
                                 canWithdraw: body["can_withdraw"]?.bool ?? false, ipRestrict: body["ip_restrict"]?.bool ?? false)
            return ok()
        case "POST /_sim/balances":
            let body = try body(req)
            guard let apiKey = body["api_key"]?.string, let key = engine.keys[apiKey], let account = engine.accounts[key.accountID] else {
                throw APIError.notFound("unknown api_key")
            }
            for (asset, amount) in try decimals(body["balances"]) { account.free[asset] = amount }
            return ok()
        case "POST /_sim/prices":
            for (symbol, price) in try decimals(try body(req)) {
                guard engine.symbols[symbol] != nil else { throw APIError.validation([FieldProblem(symbol, "unknown symbol")]) }
                engine.setPrice(symbol, price)
            }
            return ok()
        case "POST /_sim/market":
            let body = try body(req)
            if let bps = body["slippage_bps"] { engine.slippageBps = try decimal(bps, "slippage_bps") }
            if let fee = body["fee_rate"] { engine.feeRate = try decimal(fee, "fee_rate") }
            if let liquidity = body["liquidity"] { engine.liquidity = try decimals(liquidity) }
            if let halted = body["halted"]?.array {
                let names = Set(halted.compactMap(\.string))
                for name in engine.symbols.keys { engine.symbols[name]!.trading = !names.contains(name) }
            }
            return ok()
        case "POST /_sim/limits":
            let body = try body(req)
            if let v = body["request_weight_per_minute"]?.int { limits.weightPerMinute = v }
            if let v = body["orders_per_10s"]?.int { limits.ordersPer10s = v }
            if let v = body["ban_seconds"]?.int { limits.banSeconds = v }
            if body["fresh_window"]?.bool == true { limits.freshWindow() }
            return ok()
        case "POST /_sim/faults":
            let body = try body(req)
            guard let kindText = body["kind"]?.string, let kind = SimFault.Kind(rawValue: kindText) else {
                throw APIError.validation([FieldProblem("kind", "one of latency, http500, http503, backend_timeout, drop_response, rate_limit, timestamp, unknown_error, maintenance, error_after_execution")])
            }
            faults.append(SimFault(kind: kind, method: body["method"]?.string, path: body["path"]?.string,
                                   remaining: body["count"]?.int, ratio: body["ratio"].flatMap { v in v.int.map(Double.init) ?? (v == .null ? nil : Double(v.text ?? "")) },
                                   latencyMs: body["latency_ms"]?.int ?? 0, code: body["code"]?.int, message: body["message"]?.string))
            return ok()
        case "DELETE /_sim/faults":
            faults = []
            return ok()
        case "GET /_sim/orders":
            var list = engine.orders
            if let apiKey = req.query("api_key") {
                guard let key = engine.keys[apiKey] else { return .json([] as JSONValue) }
                list = list.filter { $0.accountID == key.accountID }
            }
            return .json(.array(list.map { dialect == .binance ? binanceOrder($0) : mexcOrder($0) }))
        case "GET /_sim/state":
            return .json(["dialect": .string(dialect.rawValue), "accounts": .int(engine.accounts.count), "orders": .int(engine.orders.count),
                          "trades": .int(engine.trades.count), "faults": .int(faults.count)])
        default:
            if req.method == "DELETE", req.path.hasPrefix("/_sim/accounts/") {
                let apiKey = String(req.path.dropFirst("/_sim/accounts/".count))
                guard engine.keys.removeValue(forKey: apiKey) != nil else { throw APIError.notFound("unknown api_key") }
                return ok()
            }
            throw APIError.notFound()
        }
    }

    private func ok() -> Response { .json(["ok": true] as JSONValue) }

    private func body(_ req: Request) throws -> JSONValue {
        guard !req.body.isEmpty else { return [:] }
        guard let v = try? JSONDecoder().decode(JSONValue.self, from: Data(req.body)) else { throw APIError.malformed("body is not JSON") }
        return v
    }

    private func decimal(_ v: JSONValue, _ name: String) throws -> Decimal {
        guard let text = v.text, let d = ExactDecimal.parse(text) else {
            throw APIError.validation([FieldProblem(name, "must be a decimal string")])
        }
        return d
    }

    private func decimals(_ v: JSONValue?) throws -> [String: Decimal] {
        guard let object = v?.object else { return [:] }
        var out: [String: Decimal] = [:]
        for (k, value) in object { out[k] = try decimal(value, k) }
        return out
    }
}
