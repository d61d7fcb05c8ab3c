import Core
import Database
import Domain
import Foundation

/// A connected account the reconciliation should look at, and the symbols it traded.
struct AccountToCheck {
    let userID: UUID
    let exchange: String
    let symbols: [String]
    let hasLiveOrders: Bool
}

/// Our record of one order, as the reconciliation compares it.
struct RecordedOrder {
    let id: UUID
    let status: ExecutionStatus
    let clientOrderId: String
    let filledQuantity: Decimal
    let sentAt: Date?
    let leased: Bool
}

/// One divergence between our records and an exchange.
public struct Divergence: Sendable {
    public enum Kind: String, Sendable {
        case orphan = "orphan_exchange_order"
        case missing = "missing_exchange_order"
        case statusMismatch = "status_mismatch"
        case fillMismatch = "fill_mismatch"
    }

    public let kind: Kind
    public let exchange: String
    public let userID: UUID
    public let clientOrderId: String
    public let executionID: UUID?
    public let details: [String: JSONValue]
    public let action: String

    public var json: JSONValue {
        var o: [String: JSONValue] = ["type": .string(kind.rawValue), "exchange": .string(exchange),
                                      "user_id": .string(userID.uuidString.lowercased()), "client_order_id": .string(clientOrderId),
                                      "action": .string(action), "details": .object(details)]
        o["execution_id"] = executionID.map { .string($0.uuidString.lowercased()) } ?? .null
        return .object(o)
    }

    /// The operator's Telegram alert.
    public var alertText: String {
        let what: String
        switch kind {
        case .orphan: what = "order \(clientOrderId) exists on \(exchange.uppercased()) but not in our records"
        case .missing: what = "order \(clientOrderId) is live in our records but \(exchange.uppercased()) does not have it"
        case .statusMismatch, .fillMismatch:
            what = "order \(clientOrderId): \(exchange.uppercased()) says \(details["exchange_status"]?.string ?? "?") "
                + "(filled \(details["exchange_filled"]?.string ?? "?")), we had \(details["our_status"]?.string ?? "?") "
                + "(filled \(details["our_filled"]?.string ?? "?"))"
        }
        return "Reconciliation divergence (\(kind.rawValue)): \(what). Action: \(action)."
    }
}

/// The reconciliation's SQL, and the recorded runs for the API.
public struct ReconciliationStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    static let liveStates = "('submitted', 'partial', 'unknown')"

    /// Accounts with orders to compare: live ones first, then those reconciled longest ago.
    func accountsToCheck(lookback: TimeInterval) throws(DatabaseError) -> [AccountToCheck] {
        try db.query("""
            SELECT ec.user_id, ec.exchange, array_to_string(array_agg(DISTINCT e.exchange_symbol), ',') AS symbols,
                   bool_or(e.status IN \(ReconciliationStore.liveStates)) AS live
            FROM exchange_credentials ec
            JOIN executions e ON e.user_id = ec.user_id AND e.exchange = ec.exchange
            WHERE ec.is_valid
              AND (e.created_at >= now() - make_interval(secs => $1::float8) OR e.status IN \(ReconciliationStore.liveStates))
            GROUP BY ec.user_id, ec.exchange, ec.reconciled_at
            ORDER BY bool_or(e.status IN \(ReconciliationStore.liveStates)) DESC, ec.reconciled_at NULLS FIRST, ec.user_id
            """, [lookback]).map { r throws(DatabaseError) in
            AccountToCheck(userID: try r.uuid("user_id"), exchange: try r.string("exchange"),
                           symbols: try r.string("symbols").split(separator: ",").map(String.init), hasLiveOrders: try r.bool("live"))
        }
    }

    /// Our orders of an account on a symbol within the lookback (and every live one, however old).
    func orders(userID: UUID, exchange: String, symbol: String, lookback: TimeInterval) throws(DatabaseError) -> [RecordedOrder] {
        try db.query("""
            SELECT id, status, client_order_id, COALESCE(filled_quantity, 0)::text AS filled, COALESCE(submitted_at, updated_at) AS sent_at,
                   (lease_expires_at IS NOT NULL AND lease_expires_at > now()) AS leased,
                   EXISTS (SELECT 1 FROM execution_events v WHERE v.execution_id = executions.id AND v.to_status = 'submitted') AS was_sent
            FROM executions
            WHERE user_id = $1 AND exchange = $2 AND exchange_symbol = $3
              AND (created_at >= now() - make_interval(secs => $4::float8) OR status IN \(ReconciliationStore.liveStates))
            """, [userID, exchange, symbol, lookback]).map { r throws(DatabaseError) in
            RecordedOrder(id: try r.uuid("id"), status: ExecutionStatus(rawValue: try r.string("status")) ?? .pending,
                          clientOrderId: try r.string("client_order_id"), filledQuantity: Decimal(string: try r.string("filled")) ?? 0,
                          sentAt: try r.bool("was_sent") ? try r.optionalDate("sent_at") : nil, leased: try r.bool("leased"))
        }
    }

    /// Which of these client order ids we have a record of (any account, any age).
    func known(clientOrderIds: [String]) throws(DatabaseError) -> Set<String> {
        guard !clientOrderIds.isEmpty else { return [] }
        return Set(try db.query("SELECT client_order_id FROM executions WHERE client_order_id = ANY($1::text[])", [ArrayParameter(clientOrderIds)])
            .map { r throws(DatabaseError) in try r.string("client_order_id") })
    }

    /// Records a divergence; the operator alert is queued only the first time it is seen. Returns true then.
    @discardableResult
    func record(_ d: Divergence, runID: UUID) throws(DatabaseError) -> Bool {
        try db.queryOne("""
            WITH d AS (
                INSERT INTO reconciliation_divergences (kind, exchange, user_id, client_order_id, execution_id, details, action, first_run_id)
                VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)
                ON CONFLICT (kind, exchange, client_order_id) DO UPDATE
                    SET last_seen_at = now(), times_seen = reconciliation_divergences.times_seen + 1, details = EXCLUDED.details
                RETURNING (xmax = 0) AS fresh
            ), note AS (
                INSERT INTO notifications (user_id, kind, text, dedupe_key)
                SELECT NULL, 'reconciliation_divergence', $9::text, 'divergence:' || $1::text || ':' || $2::text || ':' || $4::text
                FROM d WHERE d.fresh
                ON CONFLICT (dedupe_key) DO NOTHING
            )
            SELECT fresh FROM d
            """, [d.kind.rawValue, d.exchange, d.userID, d.clientOrderId, d.executionID, JSONValue.object(d.details), d.action, runID,
                  d.alertText])?.bool("fresh") ?? false
    }

    func markReconciled(userID: UUID, exchange: String) throws(DatabaseError) {
        try db.query("UPDATE exchange_credentials SET reconciled_at = now() WHERE user_id = $1 AND exchange = $2", [userID, exchange])
    }

    func insert(_ run: ReconcileRun) throws(DatabaseError) {
        try db.query("""
            INSERT INTO reconciliation_runs (id, broker_adapter, trigger, accounts_checked, accounts_deferred, orders_synced, positions_synced,
                divergences_found, divergence_details, actions_taken, balance_snapshot, weight_used, status, error_message, duration_ms, started_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11::jsonb, $12::jsonb, $13, $14, $15, $16)
            """, [run.id, run.exchanges.joined(separator: ","), run.trigger, run.accountsChecked, run.accountsDeferred, run.ordersSynced,
                  run.positionsSynced, run.divergences.count, JSONValue.array(run.divergences.map(\.json)), JSONValue.array(run.actions),
                  JSONValue.object(run.balances), JSONValue.object(run.weightUsed.mapValues { .int($0) }), run.status, run.errorMessage,
                  run.durationMs, run.startedAt])
    }

    static let runColumns = """
        id, broker_adapter, trigger, accounts_checked, accounts_deferred, orders_synced, positions_synced, divergences_found,
        divergence_details, actions_taken, balance_snapshot, weight_used, status, error_message, duration_ms, started_at, created_at
        """

    /// Runs, newest first, older than `before` when given.
    public func history(limit: Int, before: Date?) throws(DatabaseError) -> [JSONValue] {
        try db.query("""
            SELECT \(ReconciliationStore.runColumns) FROM reconciliation_runs
            WHERE ($2::timestamptz IS NULL OR created_at < $2::timestamptz) ORDER BY created_at DESC, id LIMIT $1
            """, [limit, before]).map(ReconciliationStore.runJSON)
    }

    public func run(id: UUID) throws(DatabaseError) -> JSONValue? {
        try db.queryOne("SELECT \(ReconciliationStore.runColumns) FROM reconciliation_runs WHERE id = $1", [id]).map(ReconciliationStore.runJSON)
    }

    public func latest() throws(DatabaseError) -> JSONValue? {
        try db.queryOne("SELECT \(ReconciliationStore.runColumns) FROM reconciliation_runs ORDER BY created_at DESC, id LIMIT 1")
            .map(ReconciliationStore.runJSON)
    }

    static func runJSON(_ r: Row) throws(DatabaseError) -> JSONValue {
        func json(_ c: String) throws(DatabaseError) -> JSONValue {
            (try? JSONDecoder().decode(JSONValue.self, from: Data(try r.string(c).utf8))) ?? .null
        }
        return [
            "id": .string(try r.uuid("id").uuidString.lowercased()), "exchanges": .array(try r.string("broker_adapter").split(separator: ",").map { .string(String($0)) }),
            "trigger": .string(try r.string("trigger")), "status": .string(try r.string("status")),
            "accounts_checked": .int(try r.int("accounts_checked")), "accounts_deferred": .int(try r.int("accounts_deferred")),
            "orders_synced": .int(try r.int("orders_synced")), "positions_synced": .int(try r.int("positions_synced")),
            "divergences_found": .int(try r.int("divergences_found")), "divergences": try json("divergence_details"),
            "actions_taken": try json("actions_taken"), "balance_snapshot": try json("balance_snapshot"), "weight_used": try json("weight_used"),
            "error_message": try r.optionalString("error_message").map(JSONValue.string) ?? .null,
            "duration_ms": try r.optionalInt("duration_ms").map(JSONValue.int) ?? .null,
            "started_at": .string(Timestamp.iso8601(try r.date("started_at"))), "finished_at": .string(Timestamp.iso8601(try r.date("created_at"))),
        ]
    }
}
