import Database
import Foundation

/// The global kill switch (`system_settings`, key `kill_switch`). Engaged by default: no order is placed until
/// an operator releases it (and `TRADING_ENABLED=true` is set for the functions that trade).
public struct KillSwitch {
    let db: Connection

    public init(db: Connection) { self.db = db }

    public struct State: Sendable, Equatable {
        public let engaged: Bool
        public let reason: String?
        public let updatedAt: Date
        public let updatedBy: UUID?
    }

    public func state() throws(DatabaseError) -> State {
        guard let row = try db.queryOne("""
            SELECT (value->>'engaged')::boolean AS engaged, value->>'reason' AS reason, updated_at, updated_by
            FROM system_settings WHERE key = 'kill_switch'
            """, idempotent: true) else {
            return State(engaged: true, reason: "not configured", updatedAt: Date(timeIntervalSince1970: 0), updatedBy: nil)
        }
        return State(engaged: try row.optionalBool("engaged") ?? true, reason: try row.optionalString("reason"),
                     updatedAt: try row.date("updated_at"), updatedBy: try row.optionalString("updated_by").flatMap(UUID.init(uuidString:)))
    }

    public func set(engaged: Bool, reason: String?, by user: UUID?) throws(DatabaseError) -> State {
        try db.query("""
            INSERT INTO system_settings (key, value, updated_at, updated_by)
            VALUES ('kill_switch', jsonb_build_object('engaged', $1::boolean, 'reason', $2::text), now(), $3)
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
            """, [engaged, reason, user])
        return try state()
    }
}
