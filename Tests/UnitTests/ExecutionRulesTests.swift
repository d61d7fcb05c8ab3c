import Domain
import Foundation
import Testing

@Suite struct ExecutionStateMachineTests {
    @Test func theSeedsPathsAreLegal() {
        for (from, to) in [(ExecutionStatus.pending, ExecutionStatus.submitted), (.submitted, .partial), (.partial, .filled),
                           (.submitted, .filled), (.submitted, .rejected), (.pending, .cancelled), (.partial, .cancelled),
                           (.submitted, .unknown), (.unknown, .filled), (.unknown, .submitted), (.failed, .deadLetter),
                           (.deadLetter, .pending), (.deadLetter, .cancelled), (.submitted, .pending),
                           (.failed, .unknown), (.deadLetter, .unknown), (.pending, .unknown)] {
            #expect(ExecutionStateMachine.canMove(from: from, to: to), "\(from) → \(to)")
        }
    }

    @Test func illegalMovesAreRefused() {
        for (from, to) in [(ExecutionStatus.filled, ExecutionStatus.pending), (.filled, .failed), (.cancelled, .submitted),
                           (.rejected, .filled), (.pending, .filled), (.pending, .deadLetter),
                           (.deadLetter, .filled), (.partial, .submitted), (.pending, .pending), (.failed, .filled)] {
            #expect(throws: IllegalTransition(from: from, to: to)) { try ExecutionStateMachine.check(from: from, to: to) }
        }
    }

    @Test func terminalStatesGoNowhere() {
        for s in ExecutionStatus.allCases where s.isTerminal {
            #expect(ExecutionStatus.allCases.allSatisfy { !ExecutionStateMachine.canMove(from: s, to: $0) })
        }
        #expect(ExecutionStatus.unknown.mayHaveOrder && !ExecutionStatus.pending.mayHaveOrder)
    }
}

@Suite struct OrderSizingTests {
    func input(_ action: TradingAction = .buy, profile: RiskProfile = .moderate, pct: String = "0.02", balance: String = "10000",
               price: String = "50000", step: String = "0.00001", minQty: String = "0.00001", minNotional: String = "5") -> OrderSizing.Input {
        OrderSizing.Input(action: action, riskProfile: profile, positionSizePct: Decimal(string: pct)!, freeBalance: Decimal(string: balance)!,
                          referencePrice: Decimal(string: price)!, stepSize: Decimal(string: step)!, minQuantity: Decimal(string: minQty)!,
                          minNotional: Decimal(string: minNotional)!, slippagePct: Decimal(string: "0.01")!)
    }

    @Test func buySizeFromBalanceRoundedDown() {
        // 2 % of 10,000 USDT = 200 USDT at the limit 50,500 → 0.00396039… → 0.00396 BTC.
        #expect(OrderSizing.decide(input()) == .order(quantity: Decimal(string: "0.00396")!, limitPrice: Decimal(string: "50500")!, raisedToMinimum: false))
    }

    @Test func userPercentageIsCappedByTheRiskProfile() {
        // Conservative caps at 1 % even if the user asked for 5 %.
        guard case .order(let q, _, _) = OrderSizing.decide(input(profile: .conservative, pct: "0.05")) else { Issue.record("no order"); return }
        #expect(q == Decimal(string: "0.00198"))
    }

    @Test func sellSpendsBase() {
        #expect(OrderSizing.decide(input(.sell, balance: "1")) == .order(quantity: Decimal(string: "0.02")!, limitPrice: Decimal(string: "49500")!, raisedToMinimum: false))
    }

    /// EC-10: below the minimum, raised when the risk cap allows, skipped when it does not.
    @Test func belowTheExchangeMinimum() {
        // 2 % of 300 USDT = 6 USDT → 0.00011 BTC (≥ 5 USDT): fine. 2 % of 200 = 4 USDT < 5: raise to 0.0001 (5 USDT)?
        // The cap is 2 % of 200 = 4 USDT < 5: refused.
        #expect(OrderSizing.decide(input(balance: "200")) == .skip(reason: .belowMinimum))
        // Aggressive (5 %) on 200 USDT: cap 10 USDT, user's 2 % is 4 USDT → raised to the minimum 0.0001 BTC.
        #expect(OrderSizing.decide(input(profile: .aggressive, balance: "200")) == .order(quantity: Decimal(string: "0.0001")!, limitPrice: Decimal(string: "50500")!, raisedToMinimum: true))
    }

    /// EC-02: nothing to trade with.
    @Test func insufficientBalance() {
        #expect(OrderSizing.decide(input(balance: "0")) == .skip(reason: .insufficientBalance))
        #expect(OrderSizing.decide(input(balance: "4")) == .skip(reason: .insufficientBalance))
        #expect(OrderSizing.decide(input(.sell, balance: "0.00005")) == .skip(reason: .insufficientBalance))
    }

    /// A SELL's limit is below the reference, and the exchange values the order at its limit: the minimum
    /// must be computed at that lower price (0.00011 BTC, not 0.0001, for 5 USDT at 49,500).
    @Test func sellMinimumAtTheLimitPrice() {
        #expect(OrderSizing.decide(input(.sell, profile: .aggressive, pct: "0.001", balance: "0.02"))
                == .order(quantity: Decimal(string: "0.00011")!, limitPrice: Decimal(string: "49500")!, raisedToMinimum: true))
    }

    @Test func protectiveLevels() {
        let (sl, tp) = OrderSizing.protectiveLevels(price: 50000, stopLossPct: Decimal(string: "0.02")!, takeProfitPct: Decimal(string: "0.05")!)
        #expect(sl == 49000 && tp == 52500)
    }
}
