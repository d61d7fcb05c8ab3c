import Exchange
import Foundation

/// Why the engine refused an order, in dialect-neutral terms; each dialect renders its own code and message.
enum SimRejection: Error {
    case unknownSymbol
    case badParameter(String)
    case illegalClientOrderId
    case duplicateOrder
    case insufficientBalance
    case filter(String)
    case belowMinNotional(Decimal)
    case marketClosed
    case unknownOrder
}

/// The matching engine and ledgers. State lives in memory; a restart (or `POST /_sim/reset`) clears it.
/// Market orders fill at the current price (± slippage); LIMIT GTC orders rest until the price crosses;
/// IOC fills or expires. A per-symbol liquidity cap makes partial fills possible.
final class SimEngine {
    var symbols: [String: SimSymbol] = [:]
    var prices: [String: Decimal] = [:]
    var liquidity: [String: Decimal] = [:]
    var slippageBps: Decimal = 0
    var feeRate: Decimal = d("0.001")
    var accounts: [Int: SimAccount] = [:]
    var keys: [String: SimKey] = [:]
    var orders: [SimOrder] = []
    var trades: [SimTrade] = []
    /// Indexes, so a long run stays O(1) per request: by order id, latest by (account, client id), open LIMIT orders.
    private var byOrderID: [Int: SimOrder] = [:]
    private var latestByClientID: [String: SimOrder] = [:]
    private(set) var resting: [Int: SimOrder] = [:]
    private var nextOrderID = 1000
    private var nextTradeID = 5000
    private var nextAccountID = 1

    init() { reset() }

    func reset() {
        symbols = Dictionary(uniqueKeysWithValues: SimSymbol.defaults.map { ($0.symbol, $0) })
        prices = SimSymbol.defaultPrices
        liquidity = [:]
        slippageBps = 0
        accounts = [:]
        keys = [:]
        orders = []
        trades = []
        byOrderID = [:]
        latestByClientID = [:]
        resting = [:]
    }

    @discardableResult
    func createAccount(key: SimKey?, apiKey: String, secret: String, balances: [String: Decimal],
                       canRead: Bool, canTrade: Bool, canWithdraw: Bool, ipRestrict: Bool) -> SimAccount {
        let account = SimAccount(id: nextAccountID)
        nextAccountID += 1
        account.free = balances
        accounts[account.id] = account
        keys[apiKey] = SimKey(apiKey: apiKey, secret: secret, canRead: canRead, canTrade: canTrade, canWithdraw: canWithdraw,
                              ipRestrict: ipRestrict, accountID: account.id, createdAt: Date())
        return account
    }

    // MARK: orders

    struct NewOrder {
        var symbol: String
        var side: OrderSide
        var type: String  // MARKET | LIMIT | IOC
        var quantity: Decimal?
        var quoteOrderQty: Decimal?
        var price: Decimal?
        var clientOrderId: String?
    }

    /// Validates without placing (`order/test`), or places and matches.
    func place(_ new: NewOrder, account: SimAccount, testOnly: Bool, clientIdPattern: (String) -> Bool) throws(SimRejection) -> SimOrder? {
        guard let sym = symbols[new.symbol] else { throw .unknownSymbol }
        guard sym.trading else { throw .marketClosed }
        guard let market = prices[new.symbol] else { throw .unknownSymbol }
        if let id = new.clientOrderId {
            guard clientIdPattern(id) else { throw .illegalClientOrderId }
            if latestByClientID["\(account.id)|\(id)"]?.isOpen == true { throw .duplicateOrder }
        }
        var qty: Decimal
        if let q = new.quantity {
            qty = q
        } else if let quote = new.quoteOrderQty, new.type == "MARKET" {
            // Sized at the slipped price, so the fill never spends more than quoteOrderQty.
            qty = ExactDecimal.floor(quote / executionPrice(side: new.side, market: market), step: sym.stepSize)
        } else {
            throw .badParameter("quantity")
        }
        if new.type != "MARKET" && new.price == nil { throw .badParameter("price") }
        if let p = new.price {
            guard p > 0, ExactDecimal.isMultiple(p, of: sym.tickSize) else { throw .filter("PRICE_FILTER") }
        }
        guard qty >= sym.minQty, qty <= sym.maxQty, ExactDecimal.isMultiple(qty, of: sym.stepSize) else { throw .filter("LOT_SIZE") }
        let notional = qty * (new.price ?? market)
        guard notional >= sym.minNotional else { throw .belowMinNotional(sym.minNotional) }
        guard notional <= sym.maxNotional else { throw .filter("NOTIONAL") }
        if testOnly { return nil }

        // Funds needed up front: quote for buys (what a limit locks: qty × limit price; a market buy: qty × its
        // slipped fill price), base for sells.
        let fillPrice = executionPrice(side: new.side, market: market)
        let needAsset = new.side == .buy ? sym.quote : sym.base
        let needAmount = new.side == .buy ? qty * (new.price ?? fillPrice) : qty
        guard (account.free[needAsset] ?? 0) >= needAmount else { throw .insufficientBalance }

        let now = Date()
        let order = SimOrder(orderId: nextOrderID, accountID: account.id, symbol: new.symbol, side: new.side, type: new.type,
                             timeInForce: new.type == "IOC" ? "IOC" : "GTC", price: new.price ?? 0,
                             origQty: qty, origQuoteQty: new.quoteOrderQty ?? 0,
                             clientOrderId: new.clientOrderId ?? SimEngine.generatedClientId(), time: now)
        nextOrderID += 1
        orders.append(order)
        byOrderID[order.orderId] = order
        latestByClientID["\(account.id)|\(order.clientOrderId)"] = order

        // Slippage models a thin book: every taker fill (market, or a limit that crosses) happens at the slipped
        // price, so a limit order only takes liquidity up to its own price.
        let crosses: Bool
        switch new.type {
        case "MARKET": crosses = true
        default: crosses = new.side == .buy ? new.price! >= fillPrice : new.price! <= fillPrice
        }
        if crosses {
            let price = new.type == "MARKET" ? fillPrice : (new.side == .buy ? min(new.price!, fillPrice) : max(new.price!, fillPrice))
            fill(order, upTo: qty, at: price, account: account, symbol: sym, maker: false)
        }
        if order.isOpen {
            if new.type == "LIMIT" {
                lock(order, account: account, symbol: sym)
                resting[order.orderId] = order
            } else {
                // MARKET or IOC: whatever did not fill expires.
                order.status = "EXPIRED"
            }
        }
        return order
    }

    func cancel(_ order: SimOrder, account: SimAccount) throws(SimRejection) {
        guard order.isOpen else { throw .unknownOrder }
        unlockRemaining(order, account: account)
        order.status = "CANCELED"
        order.updateTime = Date()
        resting[order.orderId] = nil
    }

    /// New price: resting orders that now cross fill at their limit price (as makers).
    func setPrice(_ symbol: String, _ price: Decimal) {
        prices[symbol] = price
        guard let sym = symbols[symbol] else { return }
        for order in resting.values.sorted(by: { $0.orderId < $1.orderId }) where order.symbol == symbol {
            let crosses = order.side == .buy ? order.price >= price : order.price <= price
            guard crosses, let account = accounts[order.accountID] else { continue }
            unlockRemaining(order, account: account)
            fill(order, upTo: order.origQty - order.executedQty, at: order.price, account: account, symbol: sym, maker: true)
            if order.isOpen { lock(order, account: account, symbol: sym) } else { resting[order.orderId] = nil }
        }
    }

    /// Open orders of an account, oldest first.
    func openOrders(account: SimAccount, symbol: String?) -> [SimOrder] {
        resting.values.filter { $0.accountID == account.id && (symbol == nil || $0.symbol == symbol) }.sorted { $0.orderId < $1.orderId }
    }

    /// All orders of an account on a symbol (open and closed), ascending: from `fromOrderId` on, else the most
    /// recent `limit`; optionally within [start, end].
    func allOrders(account: SimAccount, symbol: String, fromOrderId: Int?, start: Date?, end: Date?, limit: Int) -> [SimOrder] {
        let mine = orders.filter { (o: SimOrder) -> Bool in
            guard o.accountID == account.id, o.symbol == symbol else { return false }
            if let id = fromOrderId, o.orderId < id { return false }
            if let s = start, o.time < s { return false }
            if let e = end, o.time > e { return false }
            return true
        }.sorted { $0.orderId < $1.orderId }
        return fromOrderId == nil ? Array(mine.suffix(limit)) : Array(mine.prefix(limit))
    }

    func find(account: SimAccount, symbol: String, orderId: String?, clientOrderId: String?) -> SimOrder? {
        var found: SimOrder?
        if let orderId {
            let numeric = Int(orderId) ?? Int(orderId.dropFirst("C02__".count)).map { $0 - 700_000_000_000 }
            found = numeric.flatMap { byOrderID[$0] }
        } else if let clientOrderId {
            found = latestByClientID["\(account.id)|\(clientOrderId)"]
        }
        guard let order = found, order.accountID == account.id, order.symbol == symbol else { return nil }
        return order
    }

    // MARK: private

    private func executionPrice(side: OrderSide, market: Decimal) -> Decimal {
        guard slippageBps != 0 else { return market }
        let factor = slippageBps / 10000
        return side == .buy ? market * (1 + factor) : market * (1 - factor)
    }

    private func fill(_ order: SimOrder, upTo wanted: Decimal, at price: Decimal, account: SimAccount, symbol sym: SimSymbol, maker: Bool) {
        var qty = wanted
        if let cap = liquidity[order.symbol] { qty = min(qty, cap) }
        guard qty > 0 else { return }
        let quote = qty * price
        let commission: Decimal
        let commissionAsset: String
        if order.side == .buy {
            commission = qty * feeRate
            commissionAsset = sym.base
            account.free[sym.quote, default: 0] -= quote
            account.free[sym.base, default: 0] += qty - commission
        } else {
            commission = quote * feeRate
            commissionAsset = sym.quote
            account.free[sym.base, default: 0] -= qty
            account.free[sym.quote, default: 0] += quote - commission
        }
        let trade = SimTrade(id: nextTradeID, orderId: order.orderId, accountID: account.id, symbol: order.symbol, price: price,
                             qty: qty, commission: commission, commissionAsset: commissionAsset, isBuyer: order.side == .buy,
                             isMaker: maker, time: Date())
        nextTradeID += 1
        trades.append(trade)
        order.fills.append(trade)
        order.executedQty += qty
        order.cumQuote += quote
        order.status = order.executedQty >= order.origQty ? "FILLED" : "PARTIALLY_FILLED"
        order.updateTime = trade.time
    }

    private func lock(_ order: SimOrder, account: SimAccount, symbol sym: SimSymbol) {
        let remaining = order.origQty - order.executedQty
        let (asset, amount) = order.side == .buy ? (sym.quote, remaining * order.price) : (sym.base, remaining)
        account.free[asset, default: 0] -= amount
        account.locked[asset, default: 0] += amount
    }

    private func unlockRemaining(_ order: SimOrder, account: SimAccount) {
        guard order.type == "LIMIT", let sym = symbols[order.symbol] else { return }
        let remaining = order.origQty - order.executedQty
        let (asset, amount) = order.side == .buy ? (sym.quote, remaining * order.price) : (sym.base, remaining)
        account.locked[asset, default: 0] -= amount
        account.free[asset, default: 0] += amount
    }

    static func generatedClientId() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<22).map { _ in chars[Int(rng.next() % UInt64(chars.count))] })
    }
}
