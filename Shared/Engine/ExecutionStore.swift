import Core
import Database
import Domain
import Foundation

/// An execution claimed by one worker (its lease), with what the engine needs to act on it.
public struct ClaimedExecution: Sendable {
    public let id: UUID
    public let status: ExecutionStatus
    public let attempts: Int
    public let userID: UUID
    public let exchange: String
    public let exchangeSymbol: String
    public let side: String
    public let clientOrderId: String
    public let signalRef: String
    public let signalTimestamp: Date
    public let requestedQuantity: Decimal?
    public let limitPrice: Decimal?
    public let submittedAt: Date?
    /// When it last entered `unknown` (the resend grace counts from here).
    public let unknownSince: Date?
    public let notFoundCount: Int
    /// A person asked for this retry: the signal's age gate does not apply.
    public let manualRetry: Bool
    /// Who holds the lease (the worker's name).
    public let leaseOwner: String
    /// What executed so far (a partial fill must never be resent in full).
    public let filledQuantity: Decimal
    // The user, read at claim time (EC-07: a change of heart before sending is honoured).
    public let userActive: Bool
    public let tradingEnabled: Bool
    public let riskProfile: RiskProfile
    public let positionSizePct: Decimal
    public let stopLossPct: Decimal
    public let takeProfitPct: Decimal
    /// The user's sealed key for this exchange, read with the claim (one statement fewer per execution); nil
    /// when the user has none.
    public let storedCredentials: StoredCredentials?
    /// SEC-05: which of the user's exchange calls in the current minute this one is, counted by the claim
    /// (`countCalls`) for a `pending` execution; nil when the claim counted nothing.
    public let callNumber: Int?
}

/// A user's sealed exchange key as stored (ciphertext, never the key), with its state.
public struct StoredCredentials: Sendable, CustomStringConvertible {
    public let isValid: Bool
    public let fingerprint: String
    public let blob: [UInt8]
    public var description: String { "StoredCredentials(valid: \(isValid), fingerprint: \(fingerprint), blob: REDACTED)" }
}

/// A use of the user's exchange key, written to the credential audit log (SEC-06) by the transition that records
/// its outcome: one statement and one commit with the outcome, and never one without the other.
public struct KeyUse: Sendable {
    public let action: String
    public let success: Bool
    public let error: String?
    public let fingerprint: String
    public init(action: String, success: Bool, error: String?, fingerprint: String) {
        self.action = action
        self.success = success
        self.error = error
        self.fingerprint = fingerprint
    }
}

/// Optional column values written together with a transition.
public struct ExecutionUpdate: Sendable {
    public var requestedQuantity: Decimal?
    public var referencePrice: Decimal?
    public var limitPrice: Decimal?
    public var stopLossPrice: Decimal?
    public var takeProfitPrice: Decimal?
    public var exchangeOrderId: String?
    public var filledQuantity: Decimal?
    public var filledPrice: Decimal?
    public var fees: Decimal?
    public var feesCurrency: String?
    public var executedAt: Date?
    public var errorMessage: String?
    public var submittedNow = false
    /// When the engine should look at it again (nil: keep); the lease is released either way.
    public var nextAttemptIn: TimeInterval?
    public var notFoundCount: Int?

    public init() {}
}

/// A message to queue in the outbox with a state change (same transaction).
public struct Notification: Sendable {
    public let userID: UUID?
    public let kind: String
    public let text: String
    public let dedupeKey: String?
    public init(userID: UUID?, kind: String, text: String, dedupeKey: String? = nil) {
        self.userID = userID
        self.kind = kind
        self.text = text
        self.dedupeKey = dedupeKey
    }
}

/// The executions table as a work queue and a state machine. Every change is one guarded UPDATE (fenced on
/// status and attempt, so a worker whose lease expired cannot overwrite a newer outcome) plus an immutable event.
public struct ExecutionStore {
    let db: Connection
    public static let leaseSeconds = 60

    public init(db: Connection) { self.db = db }

    /// Claims one due execution (of `signal`, or `execution`, or any) in `states`, taking a lease and counting
    /// an attempt. With `staleAfter`, also one left `submitted`/`partial` for that long (its worker died while sending).
    /// `anyTime`: also before its next scheduled attempt (the reconciliation repairing a row it was told about).
    public func claim(owner: String, signal: UUID?, execution: UUID? = nil, states: [ExecutionStatus],
                      staleAfter: TimeInterval? = nil, anyTime: Bool = false) throws(DatabaseError) -> ClaimedExecution? {
        try claim(owner: owner, signal: signal, execution: execution, states: states, staleAfter: staleAfter, anyTime: anyTime,
                  limit: 1, countCalls: false).first
    }

    /// Claims up to `limit` due executions in one statement (the engine's workers: one round trip and one commit
    /// for several), never one of an exchange paused after a per-address rate limit (`ExchangePauses`).
    /// `countCalls`: also counts one exchange call per claimed `pending` execution in its user's SEC-05 budget
    /// (`ClaimedExecution.callNumber`), in the same statement.
    public func claim(owner: String, signal: UUID?, execution: UUID? = nil, states: [ExecutionStatus],
                      staleAfter: TimeInterval? = nil, anyTime: Bool = false, limit: Int, countCalls: Bool) throws(DatabaseError) -> [ClaimedExecution] {
        let list = "{" + states.map(\.rawValue).joined(separator: ",") + "}"
        // One signal's due executions (the webhook placing its fan-out): a statement of its own whose plan reads
        // executions_signal_due in order and stops at the first free row (migration 015). The general form below
        // cannot use it (its predicate depends on the parameters) and read all of the signal's rows per claim.
        let bySignal = signal != nil && execution == nil && staleAfter == nil && !anyTime
            && states.allSatisfy { $0 == .pending || $0 == .unknown }
        let next = bySignal ? """
                SELECT id FROM executions
                WHERE signal_id = $2 AND status IN ('pending', 'unknown') AND status = ANY($3::text[])
                  AND next_attempt_at <= now() AND (lease_expires_at IS NULL OR lease_expires_at < now())
                  AND NOT EXISTS (SELECT 1 FROM exchange_pauses p WHERE p.exchange = executions.exchange AND p.paused_until > now())
                  AND $5::float8 IS NULL AND $6::uuid IS NULL AND NOT $7::boolean
                ORDER BY next_attempt_at, created_at LIMIT $8 FOR UPDATE SKIP LOCKED
            """ : """
                SELECT id FROM executions
                WHERE ($2::uuid IS NULL OR signal_id = $2) AND ($6::uuid IS NULL OR id = $6)
                  AND ((status = ANY($3::text[]) AND (next_attempt_at <= now() OR $7::boolean))
                       OR ($5::float8 IS NOT NULL AND status IN ('submitted', 'partial')
                           AND updated_at < now() - make_interval(secs => $5::float8)))
                  AND (lease_expires_at IS NULL OR lease_expires_at < now())
                  AND NOT EXISTS (SELECT 1 FROM exchange_pauses p WHERE p.exchange = executions.exchange AND p.paused_until > now())
                ORDER BY next_attempt_at, created_at LIMIT $8 FOR UPDATE SKIP LOCKED
            """
        // The claim's commit is asynchronous (see `durability`): losing it in a crash loses only a lease and an
        // attempt count, nothing has been sent on it, and the write-ahead's synchronous commit flushes it anyway.
        let rows = try db.query("""
            WITH commit_mode AS (
                SELECT set_config('synchronous_commit', 'off', true) AS mode
            ), next AS (
            \(next)
            ), claimed AS (
                -- Only unindexed columns (not even updated_at, which partial indexes name): with the free space of
                -- migration 016 the claim is a HOT update, no new entry in any of the table's indexes.
                UPDATE executions e SET lease_owner = $1, lease_expires_at = now() + make_interval(secs => $4),
                       attempts = e.attempts + 1
                FROM next WHERE e.id = next.id AND (SELECT mode FROM commit_mode) IS NOT NULL
                RETURNING e.*
            ), budget AS (
                -- SEC-05 (the same rows as CredentialStore.takeCallBudget): one call per claimed pending execution.
                INSERT INTO exchange_call_budget AS b (user_id, window_start, calls)
                SELECT user_id, date_trunc('minute', now()), count(*) FROM claimed
                WHERE $9::boolean AND status = 'pending' GROUP BY user_id
                ON CONFLICT (user_id, window_start) DO UPDATE SET calls = b.calls + EXCLUDED.calls
                RETURNING user_id, calls
            )
            SELECT c.id, c.status, c.attempts, c.user_id, c.exchange, c.exchange_symbol, c.side, c.client_order_id,
                   c.requested_quantity::text AS qty, c.limit_price::text AS limit_price, c.submitted_at, c.not_found_count,
                   c.unknown_since, c.manual_retry, c.lease_owner, COALESCE(c.filled_quantity, 0)::text AS filled,
                   s.signal_id AS signal_ref, s.timestamp AS signal_ts,
                   COALESCE(u.is_active, false) AS is_active, COALESCE(tc.is_enabled, false) AS is_enabled,
                   COALESCE(u.risk_profile, 'conservative') AS risk_profile, COALESCE(u.max_position_size_pct, 0)::text AS pct,
                   COALESCE(tc.stop_loss_pct, 0)::text AS sl, COALESCE(tc.take_profit_pct, 0)::text AS tp,
                   ec.is_valid AS cred_valid, ec.key_fingerprint AS cred_fingerprint, ec.encrypted_blob AS cred_blob,
                   -- The user's calls before this statement, plus this row's place among their pending rows in it.
                   CASE WHEN c.status = 'pending' THEN bu.calls - count(*) FILTER (WHERE c.status = 'pending') OVER (PARTITION BY c.user_id)
                        + row_number() OVER (PARTITION BY c.user_id, c.status = 'pending' ORDER BY c.id) END::int AS call_number
            FROM claimed c JOIN signals s ON s.id = c.signal_id LEFT JOIN users u ON u.id = c.user_id
            LEFT JOIN trading_configs tc ON tc.user_id = c.user_id
            LEFT JOIN exchange_credentials ec ON ec.user_id = c.user_id AND ec.exchange = c.exchange
            LEFT JOIN budget bu ON bu.user_id = c.user_id
            ORDER BY c.next_attempt_at, c.created_at
            """, [owner, signal, list, ExecutionStore.leaseSeconds, staleAfter, execution, anyTime, max(1, limit), countCalls])
        return try rows.map { row throws(DatabaseError) in try ExecutionStore.claimed(row) }
    }

    static func claimed(_ row: Row) throws(DatabaseError) -> ClaimedExecution {
        func dec(_ c: String) throws(DatabaseError) -> Decimal? { try row.optionalString(c).flatMap { Decimal(string: $0) } }
        return ClaimedExecution(
            id: try row.uuid("id"), status: ExecutionStatus(rawValue: try row.string("status")) ?? .pending,
            attempts: try row.int("attempts"), userID: try row.uuid("user_id"), exchange: try row.string("exchange"),
            exchangeSymbol: try row.string("exchange_symbol"), side: try row.string("side"),
            clientOrderId: try row.string("client_order_id"), signalRef: try row.string("signal_ref"),
            signalTimestamp: try row.date("signal_ts"), requestedQuantity: try dec("qty"), limitPrice: try dec("limit_price"),
            submittedAt: try row.optionalDate("submitted_at"), unknownSince: try row.optionalDate("unknown_since"),
            notFoundCount: try row.int("not_found_count"), manualRetry: try row.bool("manual_retry"), leaseOwner: try row.string("lease_owner"), filledQuantity: try dec("filled") ?? 0,
            userActive: try row.bool("is_active"), tradingEnabled: try row.bool("is_enabled"),
            riskProfile: RiskProfile(rawValue: try row.string("risk_profile")) ?? .conservative,
            positionSizePct: try dec("pct") ?? 0, stopLossPct: try dec("sl") ?? 0, takeProfitPct: try dec("tp") ?? 0,
            storedCredentials: try row.optionalBool("cred_valid") == nil ? nil : StoredCredentials(
                isValid: try row.bool("cred_valid"), fingerprint: try row.string("cred_fingerprint"), blob: try row.bytes("cred_blob")),
            callNumber: try row.optionalInt("call_number"))
    }

    /// Moves `claim` from its status to `to` (checked by the state machine), writes the event and queues the
    /// notification — one statement, so one round trip and one commit (with several notifications, one
    /// transaction). Returns false when another worker changed it first.
    @discardableResult
    public func transition(_ claim: ClaimedExecution, from: ExecutionStatus? = nil, to: ExecutionStatus, update: ExecutionUpdate = ExecutionUpdate(),
                           reason: String, actor: String, notifications: [Notification] = [], keyUse: KeyUse? = nil) throws -> Bool {
        let current = from ?? claim.status
        try ExecutionStateMachine.check(from: current, to: to)
        let base = ExecutionStore.parameters(claim.id, current, to, claim.attempts, update)
            + [reason, actor, claim.signalRef, ExecutionStore.durability(to, keyUse: keyUse != nil)]
        let audit: [any SQLParameter] = keyUse.map { [claim.userID, claim.exchange, $0.action, $0.success, $0.error.map { String($0.prefix(1000)) }, $0.fingerprint] } ?? []
        if notifications.count <= 1 {
            let note: [any SQLParameter] = notifications.first.map { [$0.userID, $0.kind, $0.text, $0.dedupeKey] } ?? []
            let sql = ExecutionStore.transitionSQL(audit: keyUse != nil, note: !notifications.isEmpty)
            return try db.queryOne(sql, base + audit + note) != nil
        }
        return try db.transaction { tx -> Bool in
            guard try tx.queryOne(ExecutionStore.transitionSQL(audit: keyUse != nil, note: false), base + audit) != nil else {
                return false
            }
            for n in notifications { try ExecutionStore.enqueue(n, on: tx) }
            return true
        }
    }

    /// `transition` when the caller has nothing to do if another worker got there first.
    public func move(_ claim: ClaimedExecution, from: ExecutionStatus? = nil, to: ExecutionStatus, update: ExecutionUpdate = ExecutionUpdate(),
                     reason: String, actor: String, notifications: [Notification] = [], keyUse: KeyUse? = nil) throws {
        _ = try transition(claim, from: from, to: to, update: update, reason: reason, actor: actor, notifications: notifications, keyUse: keyUse)
    }

    /// Keeps the status, writes fields (e.g. a reschedule) and releases the lease; fenced like a transition.
    public func reschedule(_ claim: ClaimedExecution, in seconds: TimeInterval, note: String) throws(DatabaseError) {
        var update = ExecutionUpdate()
        update.nextAttemptIn = seconds
        update.errorMessage = note
        _ = try db.queryOne(ExecutionStore.updateSQL, ExecutionStore.parameters(claim.id, claim.status, claim.status, claim.attempts, update))
    }

    public func setNotFoundCount(_ claim: ClaimedExecution, _ count: Int, retryIn: TimeInterval) throws(DatabaseError) {
        var update = ExecutionUpdate()
        update.notFoundCount = count
        update.nextAttemptIn = retryIn
        _ = try db.queryOne(ExecutionStore.updateSQL, ExecutionStore.parameters(claim.id, claim.status, claim.status, claim.attempts, update))
    }

    /// How many times the order was sent (transitions into `submitted`) since its last retry (the job's or a
    /// person's): each retry gets the same number of sends as the first round.
    public func sendCount(_ id: UUID) throws(DatabaseError) -> Int {
        try db.queryOne("""
            SELECT count(*)::int AS n FROM execution_events v JOIN executions e ON e.id = v.execution_id
            WHERE v.execution_id = $1 AND v.to_status = 'submitted' AND v.created_at >= COALESCE(e.retried_at, '-infinity')
            """, [id])?.int("n") ?? 0
    }

    /// All executions of a user for a signal (to tell a partial failure, US-03); `filled`: some quantity
    /// executed (an IOC order can end `cancelled` after a partial fill).
    public func siblings(signalRef: String, userID: UUID) throws(DatabaseError) -> [(exchange: String, status: ExecutionStatus, filled: Bool)] {
        try db.query("""
            SELECT e.exchange, e.status, COALESCE(e.filled_quantity, 0) > 0 AS filled FROM executions e JOIN signals s ON s.id = e.signal_id
            WHERE s.signal_id = $1 AND e.user_id = $2 ORDER BY e.exchange
            """, [signalRef, userID]).map { r throws(DatabaseError) in
            (try r.string("exchange"), ExecutionStatus(rawValue: try r.string("status")) ?? .pending, try r.bool("filled"))
        }
    }

    public static func enqueue(_ n: Notification, on db: Connection) throws(DatabaseError) {
        try db.query("""
            INSERT INTO notifications (user_id, kind, text, dedupe_key) VALUES ($1, $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING
            """, [n.userID, n.kind, n.text, n.dedupeKey])
    }

    static let updateSQL = """
        UPDATE executions SET status = $3,
            requested_quantity = COALESCE($5::numeric, requested_quantity), reference_price = COALESCE($6::numeric, reference_price),
            limit_price = COALESCE($7::numeric, limit_price), stop_loss_price = COALESCE($8::numeric, stop_loss_price),
            take_profit_price = COALESCE($9::numeric, take_profit_price), exchange_order_id = COALESCE($10, exchange_order_id),
            filled_quantity = COALESCE($11::numeric, filled_quantity), filled_price = COALESCE($12::numeric, filled_price),
            fees = COALESCE($13::numeric, fees), fees_currency = COALESCE($14, fees_currency),
            executed_at = COALESCE($15::timestamptz, executed_at), error_message = COALESCE($16, error_message),
            submitted_at = CASE WHEN $17 THEN now() ELSE submitted_at END,
            next_attempt_at = CASE WHEN $18::float8 IS NULL THEN next_attempt_at ELSE now() + make_interval(secs => $18::float8) END,
            not_found_count = CASE WHEN $3::varchar = 'unknown' AND $2::varchar <> 'unknown' THEN 0 ELSE COALESCE($19::int, not_found_count) END,
            unknown_since = CASE WHEN $3::varchar = 'unknown' AND $2::varchar <> 'unknown' THEN now() ELSE unknown_since END,
            lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
        WHERE id = $1 AND status = $2 AND attempts = $4
        RETURNING id
        """

    /// How durable a transition's commit must be before the statement returns. Only the write-ahead into
    /// `submitted` precedes a request to the exchange: it waits for the WAL flush ("on"), so after a crash an order
    /// that may exist is never taken for one not sent. Any other transition's commit may be acknowledged before
    /// its flush ("off"; PostgreSQL's asynchronous commit, lost at most the last ~0.6 s of a crash, never out of
    /// order): what it records is recovered by the paths that exist anyway (a lost outcome leaves the row
    /// `submitted`, which the sweep resolves by asking the exchange for the order by its client id; a lost
    /// decision made before sending leaves it `pending`, to be decided again), and the next synchronous commit on
    /// the connection flushes it. A transition that carries a key use (the audit log) stays synchronous.
    static func durability(_ to: ExecutionStatus, keyUse: Bool = false) -> String {
        to == .submitted || keyUse ? "on" : "off"
    }

    /// The guarded UPDATE and its event; with `audit`, the key's audit-log row ($24–$29: user, exchange, action,
    /// success, error, fingerprint; written even when another worker moved the execution first, since the request
    /// was made); with `note`, one notification (the next four parameters). One statement. Variants instead of
    /// CTEs fed NULLs: PostgreSQL opens and locks every table and index a statement names, even in a CTE that
    /// inserts nothing (the write-ahead names neither the audit log nor the outbox).
    /// $23 sets the commit's durability (see `durability`); set_config(…, true) lasts until this statement's
    /// implicit transaction ends, and PostgreSQL reads the setting when it commits.
    static func transitionSQL(audit: Bool, note: Bool) -> String {
        switch (audit, note) {
        case (false, false): transitionPlain
        case (true, false): transitionAudited
        case (false, true): transitionNoted
        case (true, true): transitionAuditedNoted
        }
    }

    static let transitionPlain = transitionSQL(ctes: [])
    static let transitionAudited = transitionSQL(ctes: [auditCTE(from: 24)])
    static let transitionNoted = transitionSQL(ctes: [noteCTE(from: 24)])
    static let transitionAuditedNoted = transitionSQL(ctes: [auditCTE(from: 24), noteCTE(from: 30)])

    private static func transitionSQL(ctes: [String]) -> String {
        """
        WITH commit_mode AS (
            SELECT set_config('synchronous_commit', $23::text, true) AS mode
        ), moved AS (
        \(updateSQL.replacingOccurrences(of: "RETURNING id", with: "RETURNING id, status")
                   .replacingOccurrences(of: "WHERE id = $1", with: "WHERE id = $1 AND (SELECT mode FROM commit_mode) IS NOT NULL"))
        ), event AS (
            INSERT INTO execution_events (execution_id, from_status, to_status, reason, actor, correlation_id)
            SELECT id, $2, $3, $20::text, $21::varchar, $22::varchar FROM moved
        \(ctes.map { "), " + $0 }.joined(separator: "\n"))
        )
        SELECT id FROM moved
        """
    }

    private static func auditCTE(from n: Int) -> String {
        """
        audit AS (
            INSERT INTO credential_audit_log (user_id, exchange, action, success, error_message, key_fingerprint, user_agent)
            VALUES ($\(n)::uuid, $\(n + 1)::varchar, $\(n + 2)::varchar, $\(n + 3)::boolean, $\(n + 4)::text, $\(n + 5)::varchar, 'engine')
        """
    }

    private static func noteCTE(from n: Int) -> String {
        """
        note AS (
            INSERT INTO notifications (user_id, kind, text, dedupe_key)
            SELECT $\(n)::uuid, $\(n + 1)::varchar, $\(n + 2)::text, $\(n + 3)::varchar FROM moved
            ON CONFLICT (dedupe_key) DO NOTHING
        """
    }

    static func parameters(_ id: UUID, _ from: ExecutionStatus, _ to: ExecutionStatus, _ attempts: Int, _ u: ExecutionUpdate) -> [any SQLParameter] {
        func d(_ v: Decimal?) -> String? { v.map { "\($0)" } }
        return [id, from.rawValue, to.rawValue, attempts, d(u.requestedQuantity), d(u.referencePrice), d(u.limitPrice),
                d(u.stopLossPrice), d(u.takeProfitPrice), u.exchangeOrderId, d(u.filledQuantity), d(u.filledPrice), d(u.fees),
                u.feesCurrency, u.executedAt, u.errorMessage.map { String($0.prefix(1000)) }, u.submittedNow,
                u.nextAttemptIn, u.notFoundCount]
    }
}
