import Foundation

/// The exchanges SignalBridge trades on.
public enum ExchangeName: String, Sendable, CaseIterable, Codable {
    case binance
    case mexc
}

public enum OrderSide: String, Sendable, Codable {
    case buy = "BUY"
    case sell = "SELL"
}

/// What kind of order to place: a market order, or a limit order resting (GTC) or immediate-or-cancel (IOC).
public enum OrderKind: Sendable, Equatable {
    case market
    case limit(price: Decimal, timeInForce: TimeInForce)
}

public enum TimeInForce: String, Sendable {
    case goodTillCancelled = "GTC"
    case immediateOrCancel = "IOC"
}

/// An order to place. `clientOrderId` is ours, deterministic and ≤ 32 chars of `[A-Za-z0-9_-]`, valid on both
/// exchanges; it is how an order whose response was lost is found again.
public struct OrderRequest: Sendable {
    public var symbol: String
    public var side: OrderSide
    public var kind: OrderKind
    public var quantity: Decimal
    public var clientOrderId: String

    public init(symbol: String, side: OrderSide, kind: OrderKind, quantity: Decimal, clientOrderId: String) {
        self.symbol = symbol
        self.side = side
        self.kind = kind
        self.quantity = quantity
        self.clientOrderId = clientOrderId
    }

    /// `^[A-Za-z0-9_-]{1,32}$`
    public static func isValidClientOrderId(_ id: String) -> Bool {
        guard (1...32).contains(id.utf8.count) else { return false }
        return id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95 }
    }
}

/// An order's state on the exchange, in the exchange-neutral vocabulary of the order state machine.
public enum ExchangeOrderStatus: String, Sendable, Codable {
    case new = "NEW"
    case partiallyFilled = "PARTIALLY_FILLED"
    case filled = "FILLED"
    case cancelled = "CANCELED"
    case rejected = "REJECTED"
    case expired = "EXPIRED"

    /// Maps Binance and MEXC status words (`EXPIRED_IN_MATCH` → expired, `PARTIALLY_CANCELED` → cancelled).
    public init?(exchangeText: String) {
        switch exchangeText {
        case "NEW", "PENDING_NEW", "PENDING_CANCEL": self = .new
        case "PARTIALLY_FILLED": self = .partiallyFilled
        case "FILLED": self = .filled
        case "CANCELED", "PARTIALLY_CANCELED": self = .cancelled
        case "REJECTED": self = .rejected
        case "EXPIRED", "EXPIRED_IN_MATCH": self = .expired
        default: return nil
        }
    }

    public var isFinal: Bool { self != .new && self != .partiallyFilled }
}

/// One execution of an order.
public struct Fill: Sendable, Equatable {
    public var price: Decimal
    public var quantity: Decimal
    public var commission: Decimal
    public var commissionAsset: String
}

/// An order as the exchange reports it.
public struct ExchangeOrder: Sendable, Equatable {
    public var exchangeOrderId: String
    public var clientOrderId: String?
    public var symbol: String
    public var side: OrderSide
    public var status: ExchangeOrderStatus
    public var originalQuantity: Decimal
    public var executedQuantity: Decimal
    public var cumulativeQuoteQuantity: Decimal
    /// Limit price; zero for market orders.
    public var price: Decimal
    public var fills: [Fill]
    public var updatedAt: Date?

    /// Average fill price, when anything filled.
    public var averagePrice: Decimal? {
        executedQuantity > 0 ? cumulativeQuoteQuantity / executedQuantity : nil
    }
}

/// A trade of the account (`myTrades`).
public struct AccountTrade: Sendable, Equatable {
    public var id: String
    public var orderId: String
    public var symbol: String
    public var price: Decimal
    public var quantity: Decimal
    public var quoteQuantity: Decimal
    public var commission: Decimal
    public var commissionAsset: String
    public var isBuyer: Bool
    public var time: Date
}

public struct Balance: Sendable, Equatable {
    public var asset: String
    public var free: Decimal
    public var locked: Decimal

    public init(asset: String, free: Decimal, locked: Decimal) {
        self.asset = asset
        self.free = free
        self.locked = locked
    }
}

/// What an API key may do. MEXC cannot report withdrawal permission (`canWithdraw` nil: unknown).
public struct KeyPermissions: Sendable, Equatable {
    public var canRead: Bool
    public var canTrade: Bool
    public var canWithdraw: Bool?
    public var ipRestricted: Bool?

    public init(canRead: Bool, canTrade: Bool, canWithdraw: Bool?, ipRestricted: Bool?) {
        self.canRead = canRead
        self.canTrade = canTrade
        self.canWithdraw = canWithdraw
        self.ipRestricted = ipRestricted
    }
}

/// The trading rules of a symbol, from exchangeInfo: Binance filters or MEXC's precision fields.
public struct SymbolRules: Sendable, Equatable {
    public var symbol: String
    public var baseAsset: String
    public var quoteAsset: String
    public var trading: Bool
    public var tickSize: Decimal
    public var stepSize: Decimal
    public var minQuantity: Decimal
    public var maxQuantity: Decimal
    public var minNotional: Decimal
    public var maxNotional: Decimal

    public init(symbol: String, baseAsset: String, quoteAsset: String, trading: Bool, tickSize: Decimal, stepSize: Decimal,
                minQuantity: Decimal, maxQuantity: Decimal, minNotional: Decimal, maxNotional: Decimal) {
        self.symbol = symbol
        self.baseAsset = baseAsset
        self.quoteAsset = quoteAsset
        self.trading = trading
        self.tickSize = tickSize
        self.stepSize = stepSize
        self.minQuantity = minQuantity
        self.maxQuantity = maxQuantity
        self.minNotional = minNotional
        self.maxNotional = maxNotional
    }
}
