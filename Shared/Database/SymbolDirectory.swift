/// Which internal symbols (`BTC/USDT`) are tradable on which exchange, and under what name there
/// (table `exchange_symbols`, migration 003).
public struct SymbolDirectory {
    let db: Connection

    public init(db: Connection) { self.db = db }

    /// The exchange's name for an enabled internal symbol, or nil when it is not tradable there.
    public func exchangeSymbol(for symbol: String, on exchange: String) throws(DatabaseError) -> String? {
        try db.queryOne(
            "SELECT exchange_symbol FROM exchange_symbols WHERE symbol = $1 AND exchange = $2 AND is_enabled",
            [symbol, exchange], idempotent: true)?.string("exchange_symbol")
    }

    /// Every enabled internal symbol with the exchanges that list it.
    public func enabledSymbols() throws(DatabaseError) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for row in try db.query("SELECT symbol, exchange FROM exchange_symbols WHERE is_enabled ORDER BY symbol, exchange", idempotent: true) {
            out[try row.string("symbol"), default: []].append(try row.string("exchange"))
        }
        return out
    }
}
