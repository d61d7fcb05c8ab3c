import Core
import Database
import Domain
import Exchange
import Foundation

/// The daily Telegram report (seed 004 §4.14), exactly once per UTC day.
///
/// The day is the one that just ended by the database clock. A `periodic_runs` row (task, day) is the claim:
/// the first transaction to insert it also queues the messages (operator + each user with a Telegram chat) in
/// the outbox; every other copy, on this host or another, conflicts and queues nothing. Delivery is the
/// outbox sender's (each message once).
public struct DailyReport {
    let db: Connection
    let logger: Logger

    public init(db: Connection, logger: Logger) {
        self.db = db
        self.logger = logger
    }

    /// What `prepare` did.
    public enum Outcome: Sendable, Equatable {
        case queued(day: String, messages: Int)
        case alreadyDone(day: String)
    }

    public func prepare() throws -> Outcome {
        try db.transaction { tx -> Outcome in
            guard let period = try tx.queryOne("""
                SELECT to_char((now() AT TIME ZONE 'UTC')::date - 1, 'YYYY-MM-DD') AS day,
                       ((now() AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC' AS day_start,
                       ((now() AT TIME ZONE 'UTC')::date)::timestamp AT TIME ZONE 'UTC' AS day_end
                """) else { throw DatabaseError(kind: .invalidData, message: "no period") }
            let day = try period.string("day")
            let start = try period.date("day_start"), end = try period.date("day_end")
            guard try tx.queryOne("""
                INSERT INTO periodic_runs (task, period) VALUES ('daily_report', $1) ON CONFLICT DO NOTHING RETURNING period
                """, [day]) != nil else { return .alreadyDone(day: day) }
            let metrics = OperationsMetrics(db: tx)
            let snapshot = try metrics.snapshot()
            let (all, perUser) = try figures(tx, metrics: metrics, from: start, to: end)
            try ReportQueue.enqueue(on: tx, userID: nil, text: DailyReport.render(day: day, figures: all, snapshot: snapshot, forOperator: true),
                                    dedupeKey: "daily_report:\(day):operator")
            var messages = 1
            for user in try tx.query("SELECT id FROM users WHERE is_active AND telegram_chat_id IS NOT NULL ORDER BY id") {
                let id = try user.uuid("id")
                var f = perUser[id] ?? Figures()
                f.signalsReceived = all.signalsReceived   // the model's signals are the same for everyone
                try ReportQueue.enqueue(on: tx, userID: id, text: DailyReport.render(day: day, figures: f, snapshot: snapshot, forOperator: false),
                                        dedupeKey: "daily_report:\(day):\(id.uuidString.lowercased())")
                messages += 1
            }
            try tx.query("UPDATE periodic_runs SET details = $2::jsonb WHERE task = 'daily_report' AND period = $1",
                         [day, JSONValue.object(["messages": .int(messages)])])
            return .queued(day: day, messages: messages)
        }
    }

    /// A day's figures, for everyone or one user.
    public struct Figures: Sendable {
        public var pnl = RealizedPnLReport()
        public var fees: [String: Decimal] = [:]
        public var signalsReceived = 0
        public var skips = 0
        public var deadLettersNew = 0
        public var deadLettersWaiting = 0
        public var divergences = 0
        public var reconciliationRuns = 0
        public var reconciliationErrors = 0
        public var executionsFailed = 0

        public init() {}
    }

    /// A day's figures for everyone and per user, in a fixed number of statements whatever the user count.
    func figures(_ tx: Connection, metrics: OperationsMetrics, from: Date, to: Date) throws -> (all: Figures, perUser: [UUID: Figures]) {
        var all = Figures()
        var perUser: [UUID: Figures] = [:]
        all.pnl = try metrics.realizedPnL(from: from, to: to)
        for (user, pnl) in try metrics.realizedPnLByUser(from: from, to: to) { perUser[user, default: Figures()].pnl = pnl }
        for r in try tx.query("""
            SELECT user_id, fees_currency, sum(fees)::text AS total FROM executions
            WHERE executed_at >= $1 AND executed_at < $2 AND fees > 0 AND fees_currency IS NOT NULL
            GROUP BY user_id, fees_currency
            """, [from, to]) {
            let amount = Decimal(string: try r.string("total")) ?? 0, currency = try r.string("fees_currency")
            all.fees[currency, default: 0] += amount
            perUser[try r.uuid("user_id"), default: Figures()].fees[currency, default: 0] += amount
        }
        // Per-user counts; the operator's are their sums (a divergence may belong to no user).
        for r in try tx.query("""
            SELECT user_id, 'skips' AS what, count(*)::int AS n FROM signal_skips
             WHERE created_at >= $1 AND created_at < $2 GROUP BY user_id
            UNION ALL
            SELECT e.user_id, 'dead_letters_new', count(*)::int FROM execution_events v JOIN executions e ON e.id = v.execution_id
             WHERE v.to_status = 'dead_letter' AND v.created_at >= $1 AND v.created_at < $2 GROUP BY e.user_id
            UNION ALL
            SELECT user_id, 'dead_letters_waiting', count(*)::int FROM executions WHERE status = 'dead_letter' GROUP BY user_id
            UNION ALL
            SELECT user_id, 'failed', count(*)::int FROM executions
             WHERE status = 'failed' AND updated_at >= $1 AND updated_at < $2 GROUP BY user_id
            UNION ALL
            SELECT user_id, 'divergences', count(*)::int FROM reconciliation_divergences
             WHERE first_seen_at >= $1 AND first_seen_at < $2 GROUP BY user_id
            """, [from, to]) {
            let n = try r.int("n")
            func add(_ f: inout Figures) {
                switch (try? r.string("what")) ?? "" {
                case "skips": f.skips += n
                case "dead_letters_new": f.deadLettersNew += n
                case "dead_letters_waiting": f.deadLettersWaiting += n
                case "failed": f.executionsFailed += n
                default: f.divergences += n
                }
            }
            add(&all)
            if let user = try r.optionalString("user_id").flatMap(UUID.init(uuidString:)) { add(&perUser[user, default: Figures()]) }
        }
        if let r = try tx.queryOne("""
            SELECT (SELECT count(*) FROM signals WHERE received_at >= $1 AND received_at < $2)::int AS signals,
                   (SELECT count(*) FROM reconciliation_runs WHERE created_at >= $1 AND created_at < $2)::int AS runs,
                   (SELECT count(*) FROM reconciliation_runs WHERE created_at >= $1 AND created_at < $2 AND status = 'error')::int AS run_errors
            """, [from, to]) {
            all.signalsReceived = try r.int("signals")
            all.reconciliationRuns = try r.int("runs")
            all.reconciliationErrors = try r.int("run_errors")
        }
        return (all, perUser)
    }

    /// The message text (plain text; Telegram's limit is far away).
    public static func render(day: String, figures f: Figures, snapshot: OperationsSnapshot, forOperator: Bool) -> String {
        func amounts(_ m: [String: Decimal], signed: Bool) -> String {
            guard !m.isEmpty else { return "none" }
            return m.keys.sorted().map { k in
                let v = m[k]!
                return "\(signed && v > 0 ? "+" : "")\(ExactDecimal.text(v)) \(k)"
            }.joined(separator: ", ")
        }
        var lines = ["SignalBridge daily report \(day) (UTC)\(forOperator ? " — all users" : "")"]
        lines.append("Realised PnL: \(amounts(f.pnl.byQuoteAsset, signed: true))")
        lines.append("Trades executed: \(f.pnl.trades) (wins \(f.pnl.wins), losses \(f.pnl.losses))")
        lines.append("Fees: \(amounts(f.fees, signed: false))")
        lines.append("Signals: \(f.signalsReceived) received, \(f.skips) skipped")
        lines.append("Dead-letters: \(f.deadLettersNew) new, \(f.deadLettersWaiting) waiting; failed: \(f.executionsFailed)")
        if forOperator {
            lines.append("Reconciliation: \(f.divergences) divergences, \(f.reconciliationRuns) runs (\(f.reconciliationErrors) errors)")
            lines.append("Kill switch: \(snapshot.killSwitchEngaged ? "ENGAGED (trading halted)" : "released")")
            lines.append("Health: reconciliation \(snapshot.reconciliationState())"
                         + (snapshot.lastReconciliationAt.map { " (last run \(Timestamp.iso8601($0)))" } ?? "")
                         + "; \(snapshot.executionsInFlight) executions in flight; outbox \(snapshot.outboxOpen) waiting")
        } else {
            lines.append("Divergences on your orders: \(f.divergences)")
            lines.append("Trading: \(snapshot.killSwitchEngaged ? "halted by the operator" : "running")")
        }
        return lines.joined(separator: "\n")
    }
}

/// Queues one report message in the outbox (unique per day and recipient).
enum ReportQueue {
    static func enqueue(on db: Connection, userID: UUID?, text: String, dedupeKey: String) throws(DatabaseError) {
        try db.query("""
            INSERT INTO notifications (user_id, kind, text, dedupe_key) VALUES ($1, 'daily_report', $2, $3) ON CONFLICT (dedupe_key) DO NOTHING
            """, [userID, text, dedupeKey])
    }
}
