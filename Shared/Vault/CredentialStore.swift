import Core
import Database
import Foundation

/// A connected exchange as the API lists it: never a key, only its fingerprint.
public struct ConnectedExchange: Sendable {
    public let exchange: String
    public let isValid: Bool
    public let fingerprint: String
    public let permissions: [String]
    public let ipRestricted: Bool?
    public let connectedAt: Date
    public let lastUsedAt: Date?
    public let invalidReason: String?
}

/// `exchange_credentials` rows: sealed blobs plus what validation learned, and the append-only audit log
/// (SEC-06) every use of a key writes to.
public struct CredentialStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    static let columns = """
        exchange, is_valid, key_fingerprint, permissions::text AS permissions, ip_restricted, created_at, last_used_at, invalid_reason
        """

    public func list(userID: UUID) throws(DatabaseError) -> [ConnectedExchange] {
        var out: [ConnectedExchange] = []
        for row in try db.query("SELECT \(CredentialStore.columns) FROM exchange_credentials WHERE user_id = $1 ORDER BY exchange",
                                [userID], idempotent: true) {
            out.append(try CredentialStore.connected(row))
        }
        return out
    }

    public func find(userID: UUID, exchange: String) throws(DatabaseError) -> (ConnectedExchange, blob: [UInt8])? {
        guard let row = try db.queryOne("""
            SELECT \(CredentialStore.columns), encrypted_blob FROM exchange_credentials WHERE user_id = $1 AND exchange = $2
            """, [userID, exchange], idempotent: true) else { return nil }
        return (try CredentialStore.connected(row), try row.bytes("encrypted_blob"))
    }

    /// Inserts or atomically replaces the user's key for that exchange (reconnect).
    public func upsert(userID: UUID, exchange: String, blob: [UInt8], keyID: String, fingerprint: String,
                       permissions: [String], ipRestricted: Bool?) throws(DatabaseError) {
        let perms = "[" + permissions.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try db.query("""
            INSERT INTO exchange_credentials (user_id, exchange, encrypted_blob, key_fingerprint, key_id, permissions,
                                              ip_restricted, validated_at, is_valid)
            VALUES ($1, $2, $3::bytea, $4, $5, $6::jsonb, $7, now(), true)
            ON CONFLICT (user_id, exchange) DO UPDATE SET
                encrypted_blob = EXCLUDED.encrypted_blob, key_fingerprint = EXCLUDED.key_fingerprint, key_id = EXCLUDED.key_id,
                permissions = EXCLUDED.permissions, ip_restricted = EXCLUDED.ip_restricted, validated_at = now(),
                is_valid = true, invalidated_at = NULL, invalid_reason = NULL, created_at = now(), last_used_at = NULL,
                updated_at = now()
            """, [userID, exchange, ByteaParameter(blob), fingerprint, keyID, perms, ipRestricted])
    }

    @discardableResult
    public func delete(userID: UUID, exchange: String) throws(DatabaseError) -> Bool {
        try db.queryOne("DELETE FROM exchange_credentials WHERE user_id = $1 AND exchange = $2 RETURNING id", [userID, exchange]) != nil
    }

    public func markUsed(userID: UUID, exchange: String) throws(DatabaseError) {
        try db.query("UPDATE exchange_credentials SET last_used_at = now() WHERE user_id = $1 AND exchange = $2", [userID, exchange])
    }

    public func markValidated(userID: UUID, exchange: String, permissions: [String], ipRestricted: Bool?) throws(DatabaseError) {
        let perms = "[" + permissions.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        try db.query("""
            UPDATE exchange_credentials SET is_valid = true, invalidated_at = NULL, invalid_reason = NULL, permissions = $3::jsonb,
                ip_restricted = $4, validated_at = now(), last_used_at = now(), updated_at = now()
            WHERE user_id = $1 AND exchange = $2
            """, [userID, exchange, perms, ipRestricted])
    }

    /// EC-04: the exchange rejected a stored key. Marks it invalid and queues one alert to the user (per
    /// invalidation), in one transaction. Returns false when it was already invalid.
    @discardableResult
    public func markInvalid(userID: UUID, exchange: String, reason: String) throws -> Bool {
        try db.transaction { tx -> Bool in
            guard try tx.queryOne("""
                UPDATE exchange_credentials SET is_valid = false, invalidated_at = now(), invalid_reason = $3, updated_at = now()
                WHERE user_id = $1 AND exchange = $2 AND is_valid RETURNING id
                """, [userID, exchange, reason]) != nil else { return false }
            // One alert per invalidation (the guarded UPDATE above only succeeds once until the key is valid again).
            let dedupe = "credentials_invalid:\(userID.uuidString.lowercased()):\(exchange):\(Int(Date().timeIntervalSince1970 * 1000))"
            try tx.query("""
                INSERT INTO notifications (user_id, kind, text, dedupe_key) VALUES ($1, 'credentials_invalid', $2, $3)
                ON CONFLICT (dedupe_key) DO NOTHING
                """, [userID, "Your \(exchange.uppercased()) API key was rejected by the exchange (\(reason)). Trading on \(exchange.uppercased()) is paused until you reconnect it.", dedupe])
            return true
        }
    }

    /// SEC-06: one row per use of a key. The application role can insert but never update or delete.
    public func audit(userID: UUID, exchange: String, action: String, success: Bool, error: String?, fingerprint: String?,
                      address: String?, userAgent: String?) throws(DatabaseError) {
        try db.query("""
            INSERT INTO credential_audit_log (user_id, exchange, action, success, error_message, key_fingerprint, ip_address, user_agent)
            VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8)
            """, [userID, exchange, action, success, error, fingerprint, address.flatMap(CredentialStore.validAddress), userAgent.map { String($0.prefix(300)) }])
    }

    /// SEC-05: counts one exchange call for the user in the current minute; false once `limit` is reached.
    /// Its commit is asynchronous (not waiting for the WAL flush): a count lost in a crash is one call the budget
    /// did not see, and the caller's next synchronous commit (the write-ahead, the audit row) flushes it anyway.
    public func takeCallBudget(userID: UUID, limit: Int) throws(DatabaseError) -> Bool {
        let row = try db.queryOne("""
            WITH commit_mode AS (SELECT set_config('synchronous_commit', 'off', true) AS mode)
            INSERT INTO exchange_call_budget (user_id, window_start, calls)
            SELECT $1, date_trunc('minute', now()), 1 FROM commit_mode WHERE mode IS NOT NULL
            ON CONFLICT (user_id, window_start) DO UPDATE SET calls = exchange_call_budget.calls + 1
            RETURNING calls
            """, [userID])
        return (try row?.int("calls") ?? 0) <= limit
    }

    static func validAddress(_ text: String) -> String? {
        text.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } && !text.isEmpty ? text : nil
    }

    static func connected(_ row: Row) throws(DatabaseError) -> ConnectedExchange {
        ConnectedExchange(
            exchange: try row.string("exchange"), isValid: try row.bool("is_valid"), fingerprint: try row.string("key_fingerprint"),
            permissions: (try? JSONDecoder().decode([String].self, from: Data(try row.string("permissions").utf8))) ?? [],
            ipRestricted: try row.optionalBool("ip_restricted"), connectedAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), invalidReason: try row.optionalString("invalid_reason"))
    }
}
