import Foundation

/// The signal's action (seed CT-SIGNAL: SELL = 0, HOLD = 1, BUY = 2).
public enum TradingAction: Int, Sendable, Codable {
    case sell = 0, hold = 1, buy = 2
}

/// How much to trade for one execution (RN-U03, EC-02, EC-10) and at what limit price (EC-05). Pure arithmetic
/// on exact decimals; the engine supplies balances, prices and the exchange's rules.
public enum OrderSizing {
    /// Inputs: the user's limits, the free balance that pays (quote asset for BUY, base for SELL), the
    /// reference price, and the symbol's step, minimum quantity and minimum notional.
    public struct Input: Sendable {
        public var action: TradingAction
        public var riskProfile: RiskProfile
        public var positionSizePct: Decimal
        public var freeBalance: Decimal
        public var referencePrice: Decimal
        public var stepSize: Decimal
        public var minQuantity: Decimal
        public var minNotional: Decimal
        public var slippagePct: Decimal

        public init(action: TradingAction, riskProfile: RiskProfile, positionSizePct: Decimal, freeBalance: Decimal,
                    referencePrice: Decimal, stepSize: Decimal, minQuantity: Decimal, minNotional: Decimal, slippagePct: Decimal) {
            self.action = action
            self.riskProfile = riskProfile
            self.positionSizePct = positionSizePct
            self.freeBalance = freeBalance
            self.referencePrice = referencePrice
            self.stepSize = stepSize
            self.minQuantity = minQuantity
            self.minNotional = minNotional
            self.slippagePct = slippagePct
        }
    }

    /// The order to send, or why none.
    public enum Decision: Sendable, Equatable {
        case order(quantity: Decimal, limitPrice: Decimal, raisedToMinimum: Bool)
        case skip(reason: SkipReason)
    }

    public enum SkipReason: String, Sendable, Equatable {
        /// EC-02: nothing (or not enough for the exchange minimum) to trade with.
        case insufficientBalance = "insufficient_balance"
        /// EC-10: the position size is below the exchange minimum and raising it would exceed the risk cap.
        case belowMinimum = "below_exchange_minimum"
        case noPrice = "no_reference_price"

        public var message: String {
            switch self {
            case .insufficientBalance: "Insufficient balance for the exchange's minimum order"
            case .belowMinimum: "Position size is below the exchange minimum and the minimum would exceed the risk limit"
            case .noPrice: "No reference price"
            }
        }
    }

    /// Size = balance × min(user's position size, the risk profile's cap), in base units, rounded down to the
    /// step. Below the exchange minimum it is raised to the minimum only when that still fits the risk cap.
    /// The limit price is the reference ± slippage (IOC at that price can never fill worse).
    public static func decide(_ i: Input) -> Decision {
        guard i.referencePrice > 0 else { return .skip(reason: .noPrice) }
        let pct = min(i.positionSizePct, i.riskProfile.maxPerTradePct)
        let limitPrice = i.action == .sell ? i.referencePrice * (1 - i.slippagePct) : i.referencePrice * (1 + i.slippagePct)
        // What the risk cap allows, in base units (a BUY spends quote, a SELL spends base).
        let allowedBase = i.action == .sell ? i.freeBalance * pct : i.freeBalance * pct / limitPrice
        let capBase = i.action == .sell ? i.freeBalance * i.riskProfile.maxPerTradePct : i.freeBalance * i.riskProfile.maxPerTradePct / limitPrice
        var quantity = floorTo(allowedBase, step: i.stepSize)
        // The exchange minimum in base units: max(minQty, minNotional / price) rounded up to the step.
        // Valued at the lower of reference and limit: a SELL's limit is below the reference, and the exchange
        // checks the notional at the order's price.
        let minimum = ceilTo(max(i.minQuantity, i.minNotional / min(i.referencePrice, limitPrice)), step: i.stepSize)
        var raised = false
        if quantity < minimum || quantity <= 0 {
            let affordable = i.action == .sell ? i.freeBalance >= minimum : i.freeBalance >= minimum * limitPrice
            guard affordable else { return .skip(reason: .insufficientBalance) }
            guard minimum <= capBase else { return .skip(reason: .belowMinimum) }
            quantity = minimum
            raised = true
        }
        return .order(quantity: quantity, limitPrice: limitPrice, raisedToMinimum: raised)
    }

    /// Stop-loss and take-profit levels for a BUY at `price` (stored with the execution).
    public static func protectiveLevels(price: Decimal, stopLossPct: Decimal, takeProfitPct: Decimal) -> (stopLoss: Decimal, takeProfit: Decimal) {
        (price * (1 - stopLossPct), price * (1 + takeProfitPct))
    }

    static func floorTo(_ v: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return v }
        var q = v / step, whole = Decimal()
        NSDecimalRound(&whole, &q, 0, .down)
        return whole * step
    }

    static func ceilTo(_ v: Decimal, step: Decimal) -> Decimal {
        guard step > 0 else { return v }
        var q = v / step, whole = Decimal()
        NSDecimalRound(&whole, &q, 0, .up)
        return whole * step
    }
}
