import Accounts
import Identity
import Core
import Database
import Domain
import Foundation
import Runtime

struct AccountHandlers {
    let db: Connection
    let sessions: Sessions

    init(config: Config, db: Connection) throws {
        self.db = db
        sessions = try Sessions(config: config, db: db)
    }

    func profile(_ req: Request) throws -> Response {
        .json(Render.user(try sessions.require(req).user))
    }

    /// UserProfileUpdate: risk_profile, max_daily_trades (1–100), max_position_size_pct (0.001–0.1, within the
    /// risk profile — "Exceeds risk profile limit").
    func updateProfile(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        var body = try FieldReader(req, allowed: ["risk_profile", "max_daily_trades", "max_position_size_pct", "telegram_chat_id"])
        let profileText = body.string("risk_profile", maxLength: 20)
        let profile = profileText.flatMap(RiskProfile.init(rawValue:))
        if profileText != nil && profile == nil { body.reject("risk_profile", "must be conservative, moderate or aggressive") }
        let trades = body.int("max_daily_trades", range: 1...100)
        let pct = body.decimal("max_position_size_pct", range: Decimal(string: "0.001")!...Decimal(string: "0.1")!, places: 4)
        // A Telegram chat id: an integer (groups are negative), as a string; null clears it.
        let clearChat = body.isNull("telegram_chat_id")
        let chat = body.string("telegram_chat_id", maxLength: 32)
        if let chat, !AccountHandlers.isChatID(chat) { body.reject("telegram_chat_id", "must be a Telegram chat id (an integer, e.g. \"123456789\")") }
        try body.finish()
        let setChat = { () throws in if chat != nil || clearChat { try UserStore(db: db).setTelegramChat(id: session.userID, chatID: chat) } }
        if profile == nil && trades == nil && pct == nil {
            try setChat()
            return .json(Render.user(try UserStore(db: db).find(id: session.userID)!))
        }
        switch session.user.limits.updated(riskProfile: profile, maxDailyTrades: trades, maxPositionSizePct: pct) {
        case .failure(let broken):
            throw APIError.validation(broken.violations.map { FieldProblem($0.field, $0.message) })
        case .success(let limits):
            // A lower risk profile must also cover the strategy's stop-loss (US-02), or the two would disagree.
            if let profile, let (config, _) = try TradingConfigStore(db: db).get(userID: session.userID),
               config.stopLossPct > profile.maxPerTradePct {
                throw APIError.validation([FieldProblem("risk_profile", RuleViolation.exceedsRiskProfile + ": lower stop_loss_pct first")])
            }
            try UserStore(db: db).updateLimits(id: session.userID, limits)
            try setChat()
        }
        return .json(Render.user(try UserStore(db: db).find(id: session.userID)!))
    }

    static func isChatID(_ s: String) -> Bool {
        let digits = s.hasPrefix("-") ? s.dropFirst() : Substring(s)
        return !digits.isEmpty && digits.count <= 16 && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    func tradingConfig(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        return .json(try renderConfig(session.userID))
    }

    /// TradingConfigUpdate (a full replacement): symbol, stop_loss_pct, take_profit_pct, min_confidence,
    /// execute_on_exchanges — validated against the caller's risk profile.
    func replaceTradingConfig(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        var body = try FieldReader(req, allowed: ["symbol", "stop_loss_pct", "take_profit_pct", "min_confidence", "execute_on_exchanges"])
        let symbol = body.string("symbol", required: true, maxLength: 21)
        let stopLoss = body.decimal("stop_loss_pct", required: true, range: 0...1, places: 4)
        let takeProfit = body.decimal("take_profit_pct", required: true, range: 0...1, places: 4)
        let confidence = body.decimal("min_confidence", required: true, range: 0...1, places: 2)
        let exchanges = body.stringArray("execute_on_exchanges", required: true, maxCount: 2)
        try body.finish()
        guard let current = try TradingConfigStore(db: db).get(userID: session.userID) else { throw APIError.notFound("No trading configuration") }
        let next = TradingConfig(symbol: symbol!, stopLossPct: stopLoss!, takeProfitPct: takeProfit!, minConfidence: confidence!,
                                 executeOnExchanges: exchanges!, isEnabled: current.0.isEnabled)
        let violations = TradingConfig.validate(next, riskProfile: session.user.limits.riskProfile)
        if !violations.isEmpty { throw APIError.validation(violations.map { FieldProblem($0.field, $0.message) }) }
        try TradingConfigStore(db: db).replace(userID: session.userID, next)
        return .json(try renderConfig(session.userID))
    }

    func toggle(_ req: Request) throws -> Response {
        let session = try sessions.require(req)
        var body = try FieldReader(req, allowed: ["enabled"])
        let enabled = body.bool("enabled", required: true)
        try body.finish()
        try TradingConfigStore(db: db).toggle(userID: session.userID, enabled: enabled!)
        return .json(try renderConfig(session.userID))
    }

    private func renderConfig(_ userID: UUID) throws -> JSONValue {
        guard let (c, updatedAt) = try TradingConfigStore(db: db).get(userID: userID) else { throw APIError.notFound("No trading configuration") }
        func number(_ d: Decimal) -> JSONValue { .double(NSDecimalNumber(decimal: d).doubleValue) }
        return [
            "symbol": .string(c.symbol), "is_enabled": .bool(c.isEnabled), "stop_loss_pct": number(c.stopLossPct),
            "take_profit_pct": number(c.takeProfitPct), "min_confidence": number(c.minConfidence),
            "execute_on_exchanges": .array(c.executeOnExchanges.map { .string($0) }),
            "updated_at": .string(Timestamp.iso8601(updatedAt)),
        ]
    }
}
