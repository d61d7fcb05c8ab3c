import Database
import Foundation

/// Turns a signal's fan-out decision (a `signal_fanouts` row, stored by the webhook's transaction) into its
/// `pending` execution rows and their creation events. One statement deletes the decision and inserts the rows,
/// so a decision is either still waiting or expanded, never half; `executions_once (signal_id, user_id,
/// exchange)` makes a second expansion of the same pair a no-op.
public struct FanoutStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    /// Expands `signal`'s decision (the webhook's process, right after its response). Waits if another process
    /// is expanding it, and then finds nothing left. Returns how many pairs the decision held (0: none left) and
    /// how many executions it created (fewer only for a user deleted or a symbol delisted in between).
    @discardableResult
    public func expand(signal: UUID, actor: String) throws(DatabaseError) -> (decided: Int, created: Int) {
        guard let row = try db.queryOne(FanoutStore.expandSQL(pick: "SELECT $2::uuid"), [actor, signal]) else { return (0, 0) }
        return (try row.int("decided"), try row.int("created"))
    }

    /// Expands the oldest decision no other process holds (the sweep: what a process that crashed between its
    /// commit and its expansion left). Returns nil when none is waiting, else how many executions it created.
    public func expandOldest(actor: String) throws(DatabaseError) -> Int? {
        guard let row = try db.queryOne(FanoutStore.expandSQL(pick: """
            SELECT signal_id FROM signal_fanouts ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
            """), [actor]) else { return nil }
        return try row.bool("found") ? try row.int("created") : nil
    }

    /// `pick` selects the decision's signal; $1 is the actor the events name. The commit is asynchronous (like a
    /// claim): lost in a crash, the decision is simply still there for the next sweep, and an order's synchronous
    /// write-ahead flushes it first. The executions keep the decision's time as their creation time.
    static func expandSQL(pick: String) -> String {
        """
        WITH commit_mode AS (
            SELECT set_config('synchronous_commit', 'off', true) AS mode
        ), decision AS (
            DELETE FROM signal_fanouts WHERE signal_id = (\(pick)) AND (SELECT mode FROM commit_mode) IS NOT NULL
            RETURNING signal_id, user_ids, exchanges, created_at
        ), pairs AS (
            SELECT gen_random_uuid() AS id, d.signal_id, d.created_at, p.user_id, p.exchange,
                   CASE WHEN s.action = 0 THEN 'sell' ELSE 'buy' END AS side, es.exchange_symbol
            FROM decision d
            CROSS JOIN LATERAL unnest(d.user_ids, d.exchanges) AS p(user_id, exchange)
            JOIN signals s ON s.id = d.signal_id
            JOIN exchange_symbols es ON es.symbol = s.symbol AND es.exchange = p.exchange
            JOIN users u ON u.id = p.user_id   -- a user deleted since the decision gets nothing
        ), inserted AS (
            INSERT INTO executions (id, request_id, client_order_id, user_id, signal_id, exchange, symbol, exchange_symbol, side,
                                    order_type, status, created_at)
            SELECT id, 'sb' || left(replace(id::text, '-', ''), 30), 'sb' || left(replace(id::text, '-', ''), 30),
                   user_id, signal_id, exchange, exchange_symbol, exchange_symbol, side, 'limit', 'pending', created_at
            FROM pairs
            ON CONFLICT ON CONSTRAINT executions_once DO NOTHING
            RETURNING id
        ), events AS (
            INSERT INTO execution_events (execution_id, from_status, to_status, reason, actor, correlation_id)
            SELECT i.id, NULL, 'pending', 'eligible for the signal', $1::text,
                   (SELECT s.signal_id FROM signals s WHERE s.id = (SELECT signal_id FROM decision))
            FROM inserted i   -- (joining the pairs back: a nested loop over two CTEs, 2,000² comparisons)
        )
        SELECT EXISTS (SELECT 1 FROM decision) AS found, COALESCE((SELECT cardinality(user_ids) FROM decision), 0) AS decided,
               (SELECT count(*) FROM inserted)::int AS created
        """
    }
}
