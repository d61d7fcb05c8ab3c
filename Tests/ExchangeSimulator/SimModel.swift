import Exchange
import Foundation

/// Which exchange this simulator process imitates (`SIM_DIALECT`).
enum Dialect: String {
    case binance, mexc
}

/// A symbol's trading rules in the simulator, rendered as Binance filters or MEXC precision fields.
struct SimSymbol {
    let symbol: String
    let base: String
    let quote: String
    let tickSize: Decimal
    let stepSize: Decimal
    let minQty: Decimal
    let maxQty: Decimal
    let minNotional: Decimal
    let maxNotional: Decimal
    var trading = true

    var basePrecision: Int { ExactDecimal.places(ofStep: stepSize) }
    var quotePrecision: Int { ExactDecimal.places(ofStep: tickSize) }

    static let defaults: [SimSymbol] = [
        SimSymbol(symbol: "BTCUSDT", base: "BTC", quote: "USDT", tickSize: d("0.01"), stepSize: d("0.00001"),
                  minQty: d("0.00001"), maxQty: d("9000"), minNotional: d("5"), maxNotional: d("9000000")),
        SimSymbol(symbol: "ETHUSDT", base: "ETH", quote: "USDT", tickSize: d("0.01"), stepSize: d("0.0001"),
                  minQty: d("0.0001"), maxQty: d("9000"), minNotional: d("5"), maxNotional: d("9000000")),
        SimSymbol(symbol: "LTCUSDT", base: "LTC", quote: "USDT", tickSize: d("0.01"), stepSize: d("0.001"),
                  minQty: d("0.001"), maxQty: d("90000"), minNotional: d("5"), maxNotional: d("9000000")),
    ]
    static let defaultPrices: [String: Decimal] = ["BTCUSDT": d("50000"), "ETHUSDT": d("3000"), "LTCUSDT": d("100")]
}

func d(_ text: String) -> Decimal { ExactDecimal.parse(text)! }

/// An API key of a simulated account and what it may do.
struct SimKey {
    let apiKey: String
    let secret: String
    var canRead = true
    var canTrade = true
    var canWithdraw = false
    var ipRestrict = false
    let accountID: Int
    let createdAt: Date
}

/// Balances of one simulated account.
final class SimAccount {
    let id: Int
    var free: [String: Decimal] = [:]
    var locked: [String: Decimal] = [:]
    init(id: Int) { self.id = id }
}

/// An order in the simulator's book.
final class SimOrder {
    let orderId: Int
    let mexcId: String
    let accountID: Int
    let symbol: String
    let side: OrderSide
    /// MARKET, LIMIT (GTC), IOC
    let type: String
    let timeInForce: String
    let price: Decimal
    let origQty: Decimal
    let origQuoteQty: Decimal
    let clientOrderId: String
    var executedQty: Decimal = 0
    var cumQuote: Decimal = 0
    var status = "NEW"
    let time: Date
    var updateTime: Date
    var fills: [SimTrade] = []

    init(orderId: Int, accountID: Int, symbol: String, side: OrderSide, type: String, timeInForce: String, price: Decimal,
         origQty: Decimal, origQuoteQty: Decimal, clientOrderId: String, time: Date) {
        self.orderId = orderId
        self.mexcId = "C02__" + String(700_000_000_000 + orderId)
        self.accountID = accountID
        self.symbol = symbol
        self.side = side
        self.type = type
        self.timeInForce = timeInForce
        self.price = price
        self.origQty = origQty
        self.origQuoteQty = origQuoteQty
        self.clientOrderId = clientOrderId
        self.time = time
        self.updateTime = time
    }

    var isOpen: Bool { status == "NEW" || status == "PARTIALLY_FILLED" }
}

/// One fill.
struct SimTrade {
    let id: Int
    let orderId: Int
    let accountID: Int
    let symbol: String
    let price: Decimal
    let qty: Decimal
    let commission: Decimal
    let commissionAsset: String
    let isBuyer: Bool
    let isMaker: Bool
    let time: Date
}

/// A fault to inject into matching requests (control API `POST /_sim/faults`).
struct SimFault {
    enum Kind: String {
        case latency, http500, http503, backendTimeout = "backend_timeout", dropResponse = "drop_response"
        case rateLimit = "rate_limit", timestamp, unknownError = "unknown_error", maintenance
        /// Adversarial, not an exchange's documented behaviour: the order is executed, then an error we do not
        /// understand comes back (proves that nothing ever resends on the strength of an error answer).
        case errorAfterExecution = "error_after_execution"
    }
    let kind: Kind
    let method: String?
    let path: String?
    var remaining: Int?
    let ratio: Double?
    let latencyMs: Int
    let code: Int?
    let message: String?

    func matches(method m: String, path p: String) -> Bool {
        (method == nil || method == m) && (path == nil || path == p)
    }
}
