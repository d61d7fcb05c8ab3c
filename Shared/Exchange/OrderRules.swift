import Foundation

/// Applies a symbol's rules to an order before it is sent, so the exchange never has to reject it for a filter:
/// quantity rounded down to the step, price rounded to the tick on the side that never makes the order more
/// aggressive, then min/max quantity and min/max notional checked.
public enum OrderRules {
    /// The order as it will be sent.
    public struct Prepared: Sendable, Equatable {
        public var quantity: Decimal
        public var price: Decimal?
    }

    /// `referencePrice` values the order for notional checks (the limit price when there is one).
    public static func prepare(quantity: Decimal, price: Decimal?, side: OrderSide, referencePrice: Decimal,
                               rules: SymbolRules) throws(ExchangeError) -> Prepared {
        guard rules.trading else { throw .rejected(code: 0, message: "\(rules.symbol) is not trading") }
        let qty = ExactDecimal.floor(quantity, step: rules.stepSize)
        var tickedPrice: Decimal?
        if let price {
            tickedPrice = side == .buy ? ExactDecimal.floor(price, step: rules.tickSize) : ExactDecimal.ceil(price, step: rules.tickSize)
        }
        guard qty > 0, qty >= rules.minQuantity else {
            throw .belowMinimum("quantity \(ExactDecimal.text(qty)) is below the minimum \(ExactDecimal.text(rules.minQuantity))")
        }
        if rules.maxQuantity > 0, qty > rules.maxQuantity {
            throw .filterRejected("quantity \(ExactDecimal.text(qty)) is above the maximum \(ExactDecimal.text(rules.maxQuantity))")
        }
        let notional = qty * (tickedPrice ?? referencePrice)
        if notional < rules.minNotional {
            throw .belowMinimum("order value \(ExactDecimal.text(notional)) is below the minimum \(ExactDecimal.text(rules.minNotional))")
        }
        if rules.maxNotional > 0, notional > rules.maxNotional {
            throw .filterRejected("order value \(ExactDecimal.text(notional)) is above the maximum \(ExactDecimal.text(rules.maxNotional))")
        }
        return Prepared(quantity: qty, price: tickedPrice)
    }
}
