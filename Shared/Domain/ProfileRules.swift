import Foundation

/// One field that failed a business rule, with the message users see.
public struct RuleViolation: Sendable, Equatable {
    public let field: String
    public let message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public static let exceedsRiskProfile = "Exceeds risk profile limit"
}

/// The business rules a change broke (one or more fields).
public struct RuleViolations: Error, Sendable, Equatable {
    public let violations: [RuleViolation]
    public init(_ violations: [RuleViolation]) { self.violations = violations }
}

/// A user's trading limits (the `users` row) and the rules for changing them (UserProfileUpdate, seed §3.2).
public struct TradingLimits: Sendable, Equatable {
    public var riskProfile: RiskProfile
    public var maxDailyTrades: Int
    public var maxPositionSizePct: Decimal

    public init(riskProfile: RiskProfile, maxDailyTrades: Int, maxPositionSizePct: Decimal) {
        self.riskProfile = riskProfile
        self.maxDailyTrades = maxDailyTrades
        self.maxPositionSizePct = maxPositionSizePct
    }

    /// Applies a partial update and checks the result: `max_daily_trades` 1…100, `max_position_size_pct`
    /// 0.001…0.1 and never above the risk profile's per-trade cap. A profile change that would leave the
    /// current position size above the new cap is refused too, so the limits are always consistent.
    public func updated(riskProfile newProfile: RiskProfile?, maxDailyTrades newTrades: Int?,
                        maxPositionSizePct newPct: Decimal?) -> Result<TradingLimits, RuleViolations> {
        var next = self
        var problems: [RuleViolation] = []
        if let newProfile { next.riskProfile = newProfile }
        if let newTrades {
            if (1...100).contains(newTrades) { next.maxDailyTrades = newTrades }
            else { problems.append(RuleViolation("max_daily_trades", "must be between 1 and 100")) }
        }
        if let newPct {
            if newPct >= Decimal(string: "0.001")! && newPct <= Decimal(string: "0.1")! { next.maxPositionSizePct = newPct }
            else { problems.append(RuleViolation("max_position_size_pct", "must be between 0.001 and 0.1")) }
        }
        if problems.isEmpty, next.maxPositionSizePct > next.riskProfile.maxPerTradePct {
            problems.append(RuleViolation(newPct != nil ? "max_position_size_pct" : "risk_profile", RuleViolation.exceedsRiskProfile))
        }
        return problems.isEmpty ? .success(next) : .failure(RuleViolations(problems))
    }
}

/// A user's strategy (`trading_configs`) and the rules for changing it (US-02).
public struct TradingConfig: Sendable, Equatable {
    public var symbol: String
    public var stopLossPct: Decimal
    public var takeProfitPct: Decimal
    public var minConfidence: Decimal
    public var executeOnExchanges: [String]
    public var isEnabled: Bool

    public init(symbol: String, stopLossPct: Decimal, takeProfitPct: Decimal, minConfidence: Decimal,
                executeOnExchanges: [String], isEnabled: Bool) {
        self.symbol = symbol
        self.stopLossPct = stopLossPct
        self.takeProfitPct = takeProfitPct
        self.minConfidence = minConfidence
        self.executeOnExchanges = executeOnExchanges
        self.isEnabled = isEnabled
    }

    public static let supportedExchanges = ["binance", "mexc"]

    /// Validates a full replacement (PUT): symbol `^[A-Z]{3,10}/[A-Z]{3,10}$`, stop-loss 0.001…0.1 and within
    /// the risk profile ("Exceeds risk profile limit"), take-profit 0.001…0.5, min confidence 0…1, exchanges
    /// a non-repeating subset of binance/mexc.
    public static func validate(_ c: TradingConfig, riskProfile: RiskProfile) -> [RuleViolation] {
        var problems: [RuleViolation] = []
        if !isValidSymbol(c.symbol) { problems.append(RuleViolation("symbol", "must look like BASE/QUOTE, e.g. BTC/USDT")) }
        if c.stopLossPct < Decimal(string: "0.001")! || c.stopLossPct > Decimal(string: "0.1")! {
            problems.append(RuleViolation("stop_loss_pct", "must be between 0.001 and 0.1"))
        } else if c.stopLossPct > riskProfile.maxPerTradePct {
            problems.append(RuleViolation("stop_loss_pct", RuleViolation.exceedsRiskProfile))
        }
        if c.takeProfitPct < Decimal(string: "0.001")! || c.takeProfitPct > Decimal(string: "0.5")! {
            problems.append(RuleViolation("take_profit_pct", "must be between 0.001 and 0.5"))
        }
        if c.minConfidence < 0 || c.minConfidence > 1 {
            problems.append(RuleViolation("min_confidence", "must be between 0 and 1"))
        }
        if c.executeOnExchanges.contains(where: { !supportedExchanges.contains($0) }) {
            problems.append(RuleViolation("execute_on_exchanges", "only binance and mexc are supported"))
        } else if Set(c.executeOnExchanges).count != c.executeOnExchanges.count {
            problems.append(RuleViolation("execute_on_exchanges", "must not repeat an exchange"))
        }
        return problems
    }

    /// `^[A-Z]{3,10}/[A-Z]{3,10}$` (the signal contract's symbol rule).
    public static func isValidSymbol(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (3...10).contains($0.count) && $0.allSatisfy { $0 >= "A" && $0 <= "Z" } }
    }
}
