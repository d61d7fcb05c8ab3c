import Core
import Foundation

/// One exchange account, reached with the user's own API key. Every call is blocking and throws
/// `ExchangeError`; implementations are `BinanceAdapter` and `MEXCAdapter`.
public protocol ExchangeAdapter: AnyObject {
    var exchange: ExchangeName { get }
    /// Rate-limit usage the exchange reported on the last responses (per-IP weight, order counts).
    var usage: RateLimitUsage { get }

    /// Server time; also re-synchronises the clock offset used for signed requests.
    func syncTime() throws(ExchangeError) -> Date
    /// Read, trade and withdraw permissions of the key (withdraw may be unknown, e.g. on MEXC).
    func permissions() throws(ExchangeError) -> KeyPermissions
    func symbolRules(_ symbol: String) throws(ExchangeError) -> SymbolRules
    func tickerPrice(_ symbol: String) throws(ExchangeError) -> Decimal
    func balances() throws(ExchangeError) -> [Balance]
    /// Places an order once and returns its state as far as the exchange can tell (MEXC: the acknowledgment, then
    /// the order's status). A lost response surfaces as `ExchangeError.outcomeUnknown`: query by client order id.
    func placeOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder
    /// Places an order once and returns the exchange's acknowledgment as it is: Binance's (`FULL`) carries the
    /// final state and fills of an IOC order; MEXC's only the order id, so it comes back `.new` and its state is
    /// for `queryOrder`. Errors as `placeOrder`.
    func submitOrder(_ request: OrderRequest) throws(ExchangeError) -> ExchangeOrder
    func queryOrder(symbol: String, clientOrderId: String) throws(ExchangeError) -> ExchangeOrder
    func cancelOrder(symbol: String, clientOrderId: String) throws(ExchangeError) -> ExchangeOrder
    func openOrders(symbol: String?) throws(ExchangeError) -> [ExchangeOrder]
    /// Orders on `symbol`, open and closed, created since `since` (at most 24 h back; the newest 1,000).
    func allOrders(symbol: String, since: Date) throws(ExchangeError) -> [ExchangeOrder]
    func recentTrades(symbol: String, limit: Int) throws(ExchangeError) -> [AccountTrade]
}

/// Usage headers of the last response: Binance `X-MBX-USED-WEIGHT-1M` and `X-MBX-ORDER-COUNT-10S/1D`.
public struct RateLimitUsage: Sendable, Equatable {
    public var usedWeight1m: Int?
    public var orderCount10s: Int?
    public var orderCount1d: Int?
}

/// Credentials of one exchange account; both halves print as `REDACTED`.
public struct ExchangeCredentials: Sendable {
    public let apiKey: Secret
    public let apiSecret: Secret
    public init(apiKey: Secret, apiSecret: Secret) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }
}
