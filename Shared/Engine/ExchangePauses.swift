import Database
import Foundation

/// Exchange-wide pauses after a per-address rate limit (migration 020), shared by every worker and process
/// through one row per exchange. Claims skip the executions of a paused exchange (`ExecutionStore.claim`); the
/// reconciliation defers its accounts (and pauses it too when it is refused); health reports it without calling it.
public struct ExchangePauses {
    let db: Connection

    public init(db: Connection) { self.db = db }

    /// The exchanges paused now: until when, and why.
    public func active() throws(DatabaseError) -> [String: (until: Date, reason: String)] {
        var paused: [String: (until: Date, reason: String)] = [:]
        for row in try db.query("SELECT exchange, paused_until, reason FROM exchange_pauses WHERE paused_until > now()") {
            paused[try row.string("exchange")] = (try row.date("paused_until"), try row.string("reason"))
        }
        return paused
    }

    /// Pauses `exchange` after it refused a request for the address's limit: for its `Retry-After`, or a whole
    /// minute (the length of the exchanges' weight windows) when it gave none. Returns the end of the pause in force.
    @discardableResult
    public func pause(_ exchange: String, retryAfter: Int?, banned: Bool) throws(DatabaseError) -> Date {
        try pause(exchange, seconds: Double(retryAfter ?? 60), reason: banned ? "IP banned (418)" : "rate limited (429)")
    }

    /// Pauses `exchange` for `seconds` from now, unless it is already paused for longer; returns the end of the
    /// pause in force.
    @discardableResult
    public func pause(_ exchange: String, seconds: TimeInterval, reason: String) throws(DatabaseError) -> Date {
        try db.queryOne("""
            INSERT INTO exchange_pauses AS p (exchange, paused_until, reason) VALUES ($1, now() + make_interval(secs => $2::float8), $3)
            ON CONFLICT (exchange) DO UPDATE SET paused_until = GREATEST(p.paused_until, EXCLUDED.paused_until),
                reason = CASE WHEN EXCLUDED.paused_until > p.paused_until THEN EXCLUDED.reason ELSE p.reason END, updated_at = now()
            RETURNING paused_until
            """, [exchange, seconds, reason])?.date("paused_until") ?? Date().addingTimeInterval(seconds)
    }
}
