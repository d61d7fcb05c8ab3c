import Database
import Domain
import Foundation

/// Each user's trading configuration (`trading_configs`, one row per user, created with the user).
public struct TradingConfigStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    public func get(userID: UUID) throws(DatabaseError) -> (TradingConfig, updatedAt: Date)? {
        guard let row = try db.queryOne("""
            SELECT symbol, is_enabled, stop_loss_pct, take_profit_pct, min_confidence, execute_on_exchanges::text AS exchanges, updated_at
            FROM trading_configs WHERE user_id = $1
            """, [userID], idempotent: true) else { return nil }
        let exchanges = (try? JSONDecoder().decode([String].self, from: Data(try row.string("exchanges").utf8))) ?? []
        return (TradingConfig(symbol: try row.string("symbol"), stopLossPct: Decimal(string: try row.string("stop_loss_pct")) ?? 0,
                              takeProfitPct: Decimal(string: try row.string("take_profit_pct")) ?? 0,
                              minConfidence: Decimal(string: try row.string("min_confidence")) ?? 0,
                              executeOnExchanges: exchanges, isEnabled: try row.bool("is_enabled")),
                try row.date("updated_at"))
    }

    /// Replaces the strategy fields (not `is_enabled`, which only `toggle` changes).
    public func replace(userID: UUID, _ c: TradingConfig) throws(DatabaseError) {
        let exchanges = "[" + c.executeOnExchanges.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try db.query("""
            UPDATE trading_configs SET symbol = $2, stop_loss_pct = $3::numeric, take_profit_pct = $4::numeric,
                min_confidence = $5::numeric, execute_on_exchanges = $6::jsonb, updated_at = now()
            WHERE user_id = $1
            """, [userID, c.symbol, "\(c.stopLossPct)", "\(c.takeProfitPct)", "\(c.minConfidence)", exchanges])
    }

    public func toggle(userID: UUID, enabled: Bool) throws(DatabaseError) {
        try db.query("UPDATE trading_configs SET is_enabled = $2, updated_at = now() WHERE user_id = $1", [userID, enabled])
    }
}
