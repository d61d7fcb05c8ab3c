import Domain
import Foundation
import Testing

@Suite struct DomainRulesTests {
    let moderate = TradingLimits(riskProfile: .moderate, maxDailyTrades: 10, maxPositionSizePct: Decimal(string: "0.02")!)

    @Test func riskCaps() {
        #expect(RiskProfile.conservative.maxPerTradePct == Decimal(string: "0.01"))
        #expect(RiskProfile.moderate.maxPerTradePct == Decimal(string: "0.02"))
        #expect(RiskProfile.aggressive.maxPerTradePct == Decimal(string: "0.05"))
        #expect(SubscriptionTier.free.dailyTradeCap == 5 && SubscriptionTier.pro.dailyTradeCap == nil)
        #expect(SubscriptionTier.free.maxExchanges == 1)
    }

    @Test func positionSizeWithinTheProfile() throws {
        let raised = try moderate.updated(riskProfile: .aggressive, maxDailyTrades: 20, maxPositionSizePct: Decimal(string: "0.05")).get()
        #expect(raised.riskProfile == .aggressive && raised.maxDailyTrades == 20 && raised.maxPositionSizePct == Decimal(string: "0.05"))
    }

    @Test func exceedingTheProfileIsRefused() {
        let tooBig = moderate.updated(riskProfile: nil, maxDailyTrades: nil, maxPositionSizePct: Decimal(string: "0.03"))
        #expect(tooBig == .failure(RuleViolations([RuleViolation("max_position_size_pct", "Exceeds risk profile limit")])))
        // Lowering the profile under the current size is refused too: the limits must stay consistent.
        let lowered = moderate.updated(riskProfile: .conservative, maxDailyTrades: nil, maxPositionSizePct: nil)
        #expect(lowered == .failure(RuleViolations([RuleViolation("risk_profile", "Exceeds risk profile limit")])))
        // …unless the size comes down in the same change.
        #expect((try? moderate.updated(riskProfile: .conservative, maxDailyTrades: nil, maxPositionSizePct: Decimal(string: "0.01")).get()) != nil)
    }

    @Test func rangesAreChecked() {
        guard case .failure(let e) = moderate.updated(riskProfile: nil, maxDailyTrades: 101, maxPositionSizePct: Decimal(string: "0.0001")) else {
            Issue.record("expected a failure")
            return
        }
        #expect(e.violations.map(\.field) == ["max_daily_trades", "max_position_size_pct"])
    }

    func config(stopLoss: String = "0.02", exchanges: [String] = ["binance"], symbol: String = "BTC/USDT") -> TradingConfig {
        TradingConfig(symbol: symbol, stopLossPct: Decimal(string: stopLoss)!, takeProfitPct: Decimal(string: "0.05")!,
                      minConfidence: Decimal(string: "0.75")!, executeOnExchanges: exchanges, isEnabled: false)
    }

    /// US-02: a conservative user may not set a 3 % stop-loss.
    @Test func stopLossWithinTheRiskProfile() {
        #expect(TradingConfig.validate(config(stopLoss: "0.02"), riskProfile: .moderate).isEmpty)
        #expect(TradingConfig.validate(config(stopLoss: "0.03"), riskProfile: .conservative)
                == [RuleViolation("stop_loss_pct", "Exceeds risk profile limit")])
    }

    @Test func configShapeRules() {
        #expect(TradingConfig.validate(config(symbol: "btc/usdt"), riskProfile: .moderate).map(\.field) == ["symbol"])
        #expect(TradingConfig.validate(config(exchanges: ["kraken"]), riskProfile: .moderate).map(\.field) == ["execute_on_exchanges"])
        #expect(TradingConfig.validate(config(exchanges: ["mexc", "mexc"]), riskProfile: .moderate).map(\.field) == ["execute_on_exchanges"])
        #expect(TradingConfig.isValidSymbol("USD/COP") && !TradingConfig.isValidSymbol("BT/USDT") && !TradingConfig.isValidSymbol("BTCUSDT"))
    }

    @Test func emailNormalisation() {
        #expect(EmailAddress.normalized("  Alice@Example.COM ") == "alice@example.com")
        for bad in ["", "a", "a@b", "@example.com", "a b@example.com", "a@@example.com", "a@example..com"] {
            #expect(EmailAddress.normalized(bad) == nil, "\(bad)")
        }
    }
}
