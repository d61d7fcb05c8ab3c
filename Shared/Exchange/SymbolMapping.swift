/// Internal symbols are `BASE/QUOTE` (`BTC/USDT`); both exchanges write `BTCUSDT`. The mapping per exchange is
/// kept in the `exchange_symbols` table (migration 003), which also says which symbols are supported; this is
/// the rule used to seed it and to validate entries.
public enum SymbolMapping {
    /// `BTC/USDT` → `BTCUSDT`; nil unless the input is `^[A-Z]{2,10}/[A-Z]{2,10}$`.
    public static func exchangeSymbol(for internalSymbol: String, on exchange: ExchangeName) -> String? {
        let parts = internalSymbol.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (2...10).contains($0.count) && $0.allSatisfy { $0 >= "A" && $0 <= "Z" } }) else {
            return nil
        }
        return parts.joined()
    }
}
