import Core
import Database
import Domain
import Foundation

/// The figures the health check, `/metrics` and the daily report share, read in one round trip.
public struct OperationsSnapshot: Sendable {
    public var lastReconciliationAt: Date?
    public var lastReconciliationStatus: String?
    public var lastReconciliationSuccessAt: Date?
    public var executionsInFlight = 0
    public var deadLetters = 0
    public var killSwitchEngaged = true
    public var outboxOpen = 0
    public var outboxFailing = 0
    public var executionsByStatus: [String: Int] = [:]
    public var signalsTotal = 0
    public var notificationsByOutcome: [String: Int] = [:]
    public var reconciliationRunsByStatus: [String: Int] = [:]
    public var divergencesTotal = 0

    public init() {}

    /// `ok` when the last successful run is under `staleAfter` old, `error` when the latest run failed,
    /// `stale` otherwise (also when none ran yet).
    public func reconciliationState(now: Date = Date(), staleAfter: TimeInterval = 180) -> String {
        if lastReconciliationStatus == "error" { return "error" }
        guard let success = lastReconciliationSuccessAt, now.timeIntervalSince(success) <= staleAfter else { return "stale" }
        return "ok"
    }
}

/// Reads `OperationsSnapshot` and the day's realised PnL.
public struct OperationsMetrics {
    let db: Connection

    public init(db: Connection) { self.db = db }

    public func snapshot(detailed: Bool = false) throws(DatabaseError) -> OperationsSnapshot {
        var s = OperationsSnapshot()
        if let r = try db.queryOne("""
            SELECT (SELECT created_at FROM reconciliation_runs ORDER BY created_at DESC LIMIT 1) AS last_at,
                   (SELECT status FROM reconciliation_runs ORDER BY created_at DESC LIMIT 1) AS last_status,
                   (SELECT created_at FROM reconciliation_runs WHERE status = 'success' ORDER BY created_at DESC LIMIT 1) AS last_success,
                   (SELECT count(*) FROM executions WHERE status IN ('pending', 'submitted', 'partial', 'unknown'))::int AS in_flight,
                   (SELECT count(*) FROM executions WHERE status = 'dead_letter')::int AS dead_letters,
                   COALESCE((SELECT (value->>'engaged')::boolean FROM system_settings WHERE key = 'kill_switch'), true) AS kill_switch,
                   (SELECT count(*) FROM notifications WHERE closed_at IS NULL)::int AS outbox_open,
                   (SELECT count(*) FROM notifications WHERE closed_at IS NULL AND last_error IS NOT NULL)::int AS outbox_failing
            """, idempotent: true) {
            s.lastReconciliationAt = try r.optionalDate("last_at")
            s.lastReconciliationStatus = try r.optionalString("last_status")
            s.lastReconciliationSuccessAt = try r.optionalDate("last_success")
            s.executionsInFlight = try r.int("in_flight")
            s.deadLetters = try r.int("dead_letters")
            s.killSwitchEngaged = try r.bool("kill_switch")
            s.outboxOpen = try r.int("outbox_open")
            s.outboxFailing = try r.int("outbox_failing")
        }
        guard detailed else { return s }
        for r in try db.query("SELECT status, count(*)::int AS n FROM executions GROUP BY status", idempotent: true) {
            s.executionsByStatus[try r.string("status")] = try r.int("n")
        }
        for r in try db.query("SELECT COALESCE(outcome, 'open') AS outcome, count(*)::int AS n FROM notifications GROUP BY 1", idempotent: true) {
            s.notificationsByOutcome[try r.string("outcome")] = try r.int("n")
        }
        for r in try db.query("SELECT status, count(*)::int AS n FROM reconciliation_runs GROUP BY status", idempotent: true) {
            s.reconciliationRunsByStatus[try r.string("status")] = try r.int("n")
        }
        if let r = try db.queryOne("""
            SELECT (SELECT count(*) FROM signals)::int AS signals, (SELECT count(*) FROM reconciliation_divergences)::int AS divergences
            """, idempotent: true) {
            s.signalsTotal = try r.int("signals")
            s.divergencesTotal = try r.int("divergences")
        }
        return s
    }

    /// How far back buys are read to form the cost basis of a period's sells.
    public static let costBasisWindow: TimeInterval = 90 * 86_400

    /// Realised PnL of [from, to) for one user (or everyone), FIFO against buys up to 90 days earlier.
    public func realizedPnL(from: Date, to: Date, userID: UUID? = nil) throws(DatabaseError) -> RealizedPnLReport {
        RealizedPnL.compute(try fills(from: from, to: to, userID: userID).map(\.fill), from: from, to: to)
    }

    /// Realised PnL of [from, to) per user, from one read of the fills.
    public func realizedPnLByUser(from: Date, to: Date) throws(DatabaseError) -> [UUID: RealizedPnLReport] {
        Dictionary(grouping: try fills(from: from, to: to, userID: nil), by: \.userID)
            .mapValues { RealizedPnL.compute($0.map(\.fill), from: from, to: to) }
    }

    /// Executed orders up to `to`, back to the cost-basis window before `from`.
    func fills(from: Date, to: Date, userID: UUID?) throws(DatabaseError) -> [(userID: UUID, fill: TradeFill)] {
        let rows = try db.query("""
            SELECT e.user_id, e.exchange, e.exchange_symbol, s.symbol, e.side,
                   e.filled_quantity::text AS qty, e.filled_price::text AS price, e.executed_at
            FROM executions e JOIN signals s ON s.id = e.signal_id
            WHERE e.filled_quantity > 0 AND e.filled_price IS NOT NULL AND e.executed_at IS NOT NULL
              AND e.executed_at < $2::timestamptz AND e.executed_at >= $1::timestamptz - make_interval(secs => $4::float8)
              AND ($3::uuid IS NULL OR e.user_id = $3::uuid)
            """, [from, to, userID, OperationsMetrics.costBasisWindow], idempotent: true)
        var fills: [(userID: UUID, fill: TradeFill)] = []
        for r in rows {
            let pair = try r.string("symbol").split(separator: "/")
            guard pair.count == 2, let qty = Decimal(string: try r.string("qty")), let price = Decimal(string: try r.string("price")) else { continue }
            let user = try r.uuid("user_id")
            fills.append((user, TradeFill(account: user.uuidString.lowercased() + ":" + (try r.string("exchange")), symbol: try r.string("exchange_symbol"),
                                          quoteAsset: String(pair[1]), side: try r.string("side") == "sell" ? .sell : .buy, quantity: qty,
                                          price: price, time: try r.date("executed_at"))))
        }
        return fills
    }
}
