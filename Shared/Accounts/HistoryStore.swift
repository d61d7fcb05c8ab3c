import Core
import Database
import Foundation

/// Which executions a history read covers: one user's (or everyone's, for an admin) with optional filters.
/// Every filter is a bound parameter; `from`/`to` are inclusive, on the execution's `created_at` at millisecond
/// precision (the precision timestamps are shown with), so a `created_at` from a response works as a bound.
public struct HistoryFilter: Sendable {
    /// Whose executions; nil for everyone's (`scope=all`, admins only: the caller checks).
    public var userID: UUID?
    public var from: Date?
    public var to: Date?
    public var status: String?
    public var signalID: String?
    public var exchange: String?

    public init(userID: UUID?, from: Date? = nil, to: Date? = nil, status: String? = nil, signalID: String? = nil,
                exchange: String? = nil) {
        self.userID = userID
        self.from = from
        self.to = to
        self.status = status
        self.signalID = signalID
        self.exchange = exchange
    }

    /// The statement parameters $1…$6, in the order the statements use them.
    var parameters: [any SQLParameter] { [userID, from, to, status, signalID, exchange] }
}

/// One execution in a history: the order, the signal it executed, every state change it went through and
/// what reconciliation found about it.
public struct HistoryEntry: Sendable {
    /// One state change (`execution_events`).
    public struct Event: Sendable {
        public let fromStatus: String?
        public let toStatus: String
        public let reason: String?
        public let actor: String
        public let createdAt: Date
    }

    /// A difference reconciliation found between this execution and its exchange (`reconciliation_divergences`).
    public struct Divergence: Sendable {
        public let kind: String
        public let action: String
        public let firstSeenAt: Date
        public let lastSeenAt: Date
        public let timesSeen: Int
    }

    public let id: UUID
    public let userID: UUID
    public let exchange: String
    public let symbol: String
    public let side: String
    public let status: String
    /// Exact decimals as PostgreSQL prints them; nil until known (the quantity is sized when the order is sent).
    public let requestedQuantity: String?
    /// The IOC limit the order was sent at.
    public let requestedPrice: String?
    public let filledQuantity: String?
    public let filledPrice: String?
    public let fees: String?
    public let feesCurrency: String?
    public let errorMessage: String?
    public let createdAt: Date
    public let executedAt: Date?
    /// The signal's own `signal_id` (not its internal UUID), its time, symbol, action (0 sell, 1 hold, 2 buy), confidence.
    public let signalID: String
    public let signalTimestamp: Date
    public let signalSymbol: String
    public let signalAction: Int
    public let signalConfidence: Double
    /// Oldest first.
    public internal(set) var events: [Event] = []
    /// Oldest first.
    public internal(set) var divergences: [Divergence] = []

    init(_ r: Row) throws(DatabaseError) {
        id = try r.uuid("id")
        userID = try r.uuid("user_id")
        exchange = try r.string("exchange")
        symbol = try r.string("symbol")
        side = try r.string("side")
        status = try r.string("status")
        requestedQuantity = try r.optionalString("requested_quantity")
        requestedPrice = try r.optionalString("requested_price")
        filledQuantity = try r.optionalString("filled_quantity")
        filledPrice = try r.optionalString("filled_price")
        fees = try r.optionalString("fees")
        feesCurrency = try r.optionalString("fees_currency")
        errorMessage = try r.optionalString("error_message")
        createdAt = try r.date("created_at")
        executedAt = try r.optionalDate("executed_at")
        signalID = try r.string("signal_ref")
        signalTimestamp = try r.date("signal_timestamp")
        signalSymbol = try r.string("signal_symbol")
        signalAction = try r.int("signal_action")
        signalConfidence = try r.double("signal_confidence")
    }

    /// The `HistoryItem` of the API.
    public var json: JSONValue {
        func text(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func time(_ d: Date?) -> JSONValue { d.map { .string(Timestamp.iso8601($0)) } ?? .null }
        let signal: JSONValue = [
            "signal_id": .string(signalID), "timestamp": time(signalTimestamp), "symbol": .string(signalSymbol),
            "action": .int(signalAction), "confidence": .double(signalConfidence),
        ]
        let eventItems: [JSONValue] = events.map { e -> JSONValue in
            [
                "from_status": text(e.fromStatus), "to_status": .string(e.toStatus), "reason": text(e.reason),
                "actor": .string(e.actor), "created_at": time(e.createdAt),
            ]
        }
        let divergenceItems: [JSONValue] = divergences.map { d -> JSONValue in
            [
                "kind": .string(d.kind), "action": .string(d.action), "first_seen_at": time(d.firstSeenAt),
                "last_seen_at": time(d.lastSeenAt), "times_seen": .int(d.timesSeen),
            ]
        }
        return [
            "id": .string(id.uuidString.lowercased()), "user_id": .string(userID.uuidString.lowercased()),
            "exchange": .string(exchange), "symbol": .string(symbol), "side": .string(side), "status": .string(status),
            "requested_quantity": text(requestedQuantity), "requested_price": text(requestedPrice),
            "filled_quantity": text(filledQuantity), "filled_price": text(filledPrice), "fees": text(fees),
            "fees_currency": text(feesCurrency), "error_message": text(errorMessage),
            "created_at": time(createdAt), "executed_at": time(executedAt),
            "signal": signal, "events": .array(eventItems), "divergences": .array(divergenceItems),
        ]
    }
}

/// Read model of the history (the History function): signals → executions → events → reconciliation, one
/// entry per execution, newest first by (created_at, id), keyset-paginated so pages never skip or repeat a row.
public struct HistoryStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    static let columns = """
        e.id, e.user_id, e.exchange, e.symbol, e.side, e.status,
        e.requested_quantity::text AS requested_quantity, e.limit_price::text AS requested_price,
        e.filled_quantity::text AS filled_quantity, e.filled_price::text AS filled_price, e.fees::text AS fees,
        e.fees_currency, e.error_message, e.created_at, e.executed_at,
        s.signal_id AS signal_ref, s.timestamp AS signal_timestamp, s.symbol AS signal_symbol,
        s.action AS signal_action, s.confidence::text AS signal_confidence
        """

    /// $2…$6: from, to (inclusive at millisecond precision), status, signal_id, exchange.
    static let filters = """
        ($2::timestamptz IS NULL OR e.created_at >= $2::timestamptz)
          AND ($3::timestamptz IS NULL OR e.created_at < $3::timestamptz + interval '1 millisecond')
          AND ($4::text IS NULL OR e.status = $4::text)
          AND ($5::text IS NULL OR s.signal_id = $5::text)
          AND ($6::text IS NULL OR e.exchange = $6::text)
        """

    /// Whose rows: the user's ($1), or everyone's ($1 is then NULL). Two statements rather than
    /// `$1 IS NULL OR …`, so the user's own reads keep their index whatever plan PostgreSQL caches.
    static let own = "e.user_id = $1::uuid"
    static let everyone = "$1::uuid IS NULL"

    /// A page: after the execution $7 (the cursor; one outside the scope gives an empty page), at most $8.
    static func pageStatement(scope: String, cursorScope: String) -> String {
        """
        SELECT \(columns) FROM executions e JOIN signals s ON s.id = e.signal_id
        WHERE \(scope) AND \(filters)
          AND ($7::uuid IS NULL OR (e.created_at, e.id) < (SELECT c.created_at, c.id FROM executions c
                                                         WHERE c.id = $7::uuid AND \(cursorScope)))
        ORDER BY e.created_at DESC, e.id DESC LIMIT $8
        """
    }

    static let ownPage = pageStatement(scope: own, cursorScope: "c.user_id = $1::uuid")
    static let everyonePage = pageStatement(scope: everyone, cursorScope: "true")

    /// Whether more than $7 executions match, counting no further.
    static func beyondStatement(scope: String) -> String {
        """
        SELECT EXISTS (SELECT 1 FROM executions e JOIN signals s ON s.id = e.signal_id
                       WHERE \(scope) AND \(filters) OFFSET $7) AS beyond
        """
    }

    static let ownBeyond = beyondStatement(scope: own)
    static let everyoneBeyond = beyondStatement(scope: everyone)

    static let events = """
        SELECT execution_id, from_status, to_status, reason, actor, created_at FROM execution_events
        WHERE execution_id = ANY($1::uuid[]) ORDER BY execution_id, id
        """

    static let divergences = """
        SELECT execution_id, kind, action, first_seen_at, last_seen_at, times_seen FROM reconciliation_divergences
        WHERE execution_id = ANY($1::uuid[]) ORDER BY execution_id, first_seen_at, id
        """

    /// One page, newest first, after the execution `after` (exclusive), with each entry's events and divergences
    /// (three statements whatever the page size).
    public func page(_ filter: HistoryFilter, after: UUID?, limit: Int) throws(DatabaseError) -> [HistoryEntry] {
        let sql = filter.userID == nil ? HistoryStore.everyonePage : HistoryStore.ownPage
        var parameters = filter.parameters
        parameters.append(after)
        parameters.append(limit)
        let rows = try db.query(sql, parameters, idempotent: true)
        var entries: [HistoryEntry] = []
        entries.reserveCapacity(rows.count)
        for r in rows { entries.append(try HistoryEntry(r)) }
        guard !entries.isEmpty else { return entries }

        var position: [UUID: Int] = [:]
        for (i, e) in entries.enumerated() { position[e.id] = i }
        // Our own UUIDs as a PostgreSQL array literal (a bound parameter, like every other value).
        let ids = "{" + entries.map { $0.id.uuidString.lowercased() }.joined(separator: ",") + "}"
        for r in try db.query(HistoryStore.events, [ids], idempotent: true) {
            let id = try r.uuid("execution_id")
            guard let i = position[id] else { continue }
            entries[i].events.append(HistoryEntry.Event(
                fromStatus: try r.optionalString("from_status"), toStatus: try r.string("to_status"),
                reason: try r.optionalString("reason"), actor: try r.string("actor"), createdAt: try r.date("created_at")))
        }
        for r in try db.query(HistoryStore.divergences, [ids], idempotent: true) {
            let id = try r.uuid("execution_id")
            guard let i = position[id] else { continue }
            entries[i].divergences.append(HistoryEntry.Divergence(
                kind: try r.string("kind"), action: try r.string("action"), firstSeenAt: try r.date("first_seen_at"),
                lastSeenAt: try r.date("last_seen_at"), timesSeen: try r.int("times_seen")))
        }
        return entries
    }

    /// Whether more than `count` executions match the filter (the export's cap), looking no further than that.
    public func matches(moreThan count: Int, _ filter: HistoryFilter) throws(DatabaseError) -> Bool {
        let sql = filter.userID == nil ? HistoryStore.everyoneBeyond : HistoryStore.ownBeyond
        var parameters = filter.parameters
        parameters.append(count)
        return try db.queryOne(sql, parameters, idempotent: true)?.bool("beyond") ?? false
    }
}
