import Foundation

/// One executed order, as profit accounting sees it.
public struct TradeFill: Sendable, Equatable {
    public enum Side: String, Sendable { case buy, sell }
    /// Whose position it changes: a user's account on one exchange, for one symbol.
    public let account: String
    public let symbol: String
    public let quoteAsset: String
    public let side: Side
    public let quantity: Decimal
    public let price: Decimal
    public let time: Date

    public init(account: String, symbol: String, quoteAsset: String, side: Side, quantity: Decimal, price: Decimal, time: Date) {
        self.account = account
        self.symbol = symbol
        self.quoteAsset = quoteAsset
        self.side = side
        self.quantity = quantity
        self.price = price
        self.time = time
    }
}

/// What a period's trades realised.
public struct RealizedPnLReport: Sendable, Equatable {
    /// Realised profit (negative: loss) per quote asset, before fees (fees are reported apart, per asset).
    public var byQuoteAsset: [String: Decimal] = [:]
    /// Fills in the period (buys and sells).
    public var trades = 0
    /// Sells in the period that closed at a profit / at a loss against their cost basis.
    public var wins = 0
    public var losses = 0
    /// Quantity sold in the period with no earlier buy to match (bought outside what we know).
    public var unmatchedQuantity: [String: Decimal] = [:]

    public init() {}
}

/// Realised profit and loss by first-in-first-out matching (seed 004 §4.14: the day's PnL, wins and losses).
/// Per account and symbol, each sell is matched against the oldest remaining buys; buys before the period
/// form the cost basis, only sells inside the period count. Plain arithmetic on `Decimal`, no I/O.
public enum RealizedPnL {
    public static func compute(_ fills: [TradeFill], from: Date, to: Date) -> RealizedPnLReport {
        var report = RealizedPnLReport()
        var lots: [String: [(quantity: Decimal, price: Decimal)]] = [:]
        for fill in fills.sorted(by: { $0.time < $1.time }) where fill.time < to && fill.quantity > 0 {
            let key = fill.account + "|" + fill.symbol
            let inPeriod = fill.time >= from
            if inPeriod { report.trades += 1 }
            switch fill.side {
            case .buy:
                lots[key, default: []].append((fill.quantity, fill.price))
            case .sell:
                var remaining = fill.quantity
                var pnl: Decimal = 0
                var queue = lots[key] ?? []
                while remaining > 0, !queue.isEmpty {
                    let take = min(remaining, queue[0].quantity)
                    pnl += take * (fill.price - queue[0].price)
                    remaining -= take
                    queue[0].quantity -= take
                    if queue[0].quantity == 0 { queue.removeFirst() }
                }
                lots[key] = queue
                guard inPeriod else { continue }
                if remaining > 0 { report.unmatchedQuantity[fill.symbol, default: 0] += remaining }
                guard remaining < fill.quantity else { continue }
                report.byQuoteAsset[fill.quoteAsset, default: 0] += pnl
                if pnl > 0 { report.wins += 1 } else if pnl < 0 { report.losses += 1 }
            }
        }
        return report
    }
}
