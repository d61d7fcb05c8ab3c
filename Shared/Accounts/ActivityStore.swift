import Core
import Database
import Foundation

/// Read models for a user's signals and executions (the Activity function). Every query is scoped to the
/// caller: another user's execution is simply not found.
public struct ActivityStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    static let signalColumns = """
        signal_id, timestamp, symbol, action, confidence::text AS confidence, model_version, source,
        features_snapshot::text AS features, received_at
        """

    /// Recent signals, newest first.
    public func signals(limit: Int, since: Date?) throws(DatabaseError) -> [JSONValue] {
        let rows = try db.query("""
            SELECT \(ActivityStore.signalColumns) FROM signals
            WHERE ($2::timestamptz IS NULL OR timestamp >= $2::timestamptz)
            ORDER BY timestamp DESC, id DESC LIMIT $1
            """, [limit, since], idempotent: true)
        var out: [JSONValue] = []
        for r in rows {
            var o: [String: JSONValue] = [
                "signal_id": .string(try r.string("signal_id")), "timestamp": .string(Timestamp.iso8601(try r.date("timestamp"))),
                "symbol": .string(try r.string("symbol")), "action": .int(try r.int("action")),
                "confidence": .double(Double(try r.string("confidence")) ?? 0),
                "model_version": try r.optionalString("model_version").map(JSONValue.string) ?? .null,
                "source": .string(try r.optionalString("source") ?? "ml_model"),
                "received_at": .string(Timestamp.iso8601(try r.date("received_at"))),
            ]
            o["features_snapshot"] = try r.optionalString("features").flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) } ?? .null
            out.append(.object(o))
        }
        return out
    }

    static let executionColumns = """
        e.id, e.request_id, s.signal_id AS signal_ref, e.exchange, e.symbol, e.side, e.order_type,
        e.requested_quantity::text AS requested_quantity, e.exchange_order_id, e.status,
        e.filled_quantity::text AS filled_quantity, e.filled_price::text AS filled_price, e.fees::text AS fees,
        e.fees_currency, e.executed_at, e.error_message, e.created_at
        """

    /// The caller's executions, newest first, filtered, keyset-paginated by (created_at, id).
    public func executions(userID: UUID, limit: Int, exchange: String?, status: String?, after: UUID?) throws(DatabaseError) -> [JSONValue] {
        let rows = try db.query("""
            SELECT \(ActivityStore.executionColumns) FROM executions e JOIN signals s ON s.id = e.signal_id
            WHERE e.user_id = $1 AND ($2::text IS NULL OR e.exchange = $2) AND ($3::text IS NULL OR e.status = $3)
              AND ($4::uuid IS NULL OR (e.created_at, e.id) < (SELECT c.created_at, c.id FROM executions c WHERE c.id = $4 AND c.user_id = $1))
            ORDER BY e.created_at DESC, e.id DESC LIMIT $5
            """, [userID, exchange, status, after, limit], idempotent: true)
        var out: [JSONValue] = []
        for r in rows { out.append(try ActivityStore.execution(r)) }
        return out
    }

    /// One of the caller's executions with its event timeline; nil when it is not theirs or does not exist.
    public func execution(userID: UUID, id: UUID) throws(DatabaseError) -> JSONValue? {
        guard let row = try db.queryOne("""
            SELECT \(ActivityStore.executionColumns) FROM executions e JOIN signals s ON s.id = e.signal_id
            WHERE e.user_id = $1 AND e.id = $2
            """, [userID, id], idempotent: true) else { return nil }
        guard case .object(var o) = try ActivityStore.execution(row) else { return nil }
        var events: [JSONValue] = []
        for e in try db.query("""
            SELECT from_status, to_status, reason, actor, created_at FROM execution_events
            WHERE execution_id = $1 ORDER BY id
            """, [id], idempotent: true) {
            events.append([
                "from_status": try e.optionalString("from_status").map(JSONValue.string) ?? .null,
                "to_status": .string(try e.string("to_status")),
                "reason": try e.optionalString("reason").map(JSONValue.string) ?? .null,
                "actor": .string(try e.string("actor")),
                "at": .string(Timestamp.iso8601(try e.date("created_at"))),
            ])
        }
        o["events"] = .array(events)
        return .object(o)
    }

    static func execution(_ r: Row) throws(DatabaseError) -> JSONValue {
        func opt(_ c: String) throws(DatabaseError) -> JSONValue { try r.optionalString(c).map(JSONValue.string) ?? .null }
        return [
            "id": .string(try r.uuid("id").uuidString.lowercased()), "request_id": .string(try r.string("request_id")),
            "signal_id": .string(try r.string("signal_ref")), "exchange": .string(try r.string("exchange")),
            "symbol": .string(try r.string("symbol")), "side": .string(try r.string("side")),
            "order_type": .string(try r.string("order_type")), "requested_quantity": try r.optionalString("requested_quantity").map(JSONValue.string) ?? .null,
            "exchange_order_id": try opt("exchange_order_id"), "status": .string(try r.string("status")),
            "filled_quantity": try opt("filled_quantity"), "filled_price": try opt("filled_price"), "fees": try opt("fees"),
            "fees_currency": try opt("fees_currency"),
            "executed_at": try r.optionalDate("executed_at").map { .string(Timestamp.iso8601($0)) } ?? .null,
            "error_message": try opt("error_message"), "created_at": .string(Timestamp.iso8601(try r.date("created_at"))),
        ]
    }
}
