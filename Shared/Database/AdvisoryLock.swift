import Crypto

/// Every advisory lock the system takes, in one registry. A lock's key is the first 64 bits of
/// SHA-256("signalbridge:<name>") read as a big-endian signed integer; the SQL function
/// `signalbridge_lock_key(name)` (migration 001) computes the same value. `hashtext` is never used:
/// it is undocumented and has changed between PostgreSQL versions.
public enum LockName: String, CaseIterable, Sendable {
    case migrations
    case reconcile
    case deadLetterRetry = "dead_letter_retry"
    case dailyReport = "daily_report"

    public var key: Int64 { LockName.key(for: rawValue) }

    public static func key(for name: String) -> Int64 {
        let digest = SHA256.hash("signalbridge:" + name)
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Int64(bitPattern: value)
    }
}

extension Connection {
    /// Takes a session-level lock without waiting; false when another session holds it.
    public func tryAdvisoryLock(_ name: LockName) throws(DatabaseError) -> Bool {
        try queryOne("SELECT pg_try_advisory_lock($1::bigint) AS locked", [name.key])?.bool("locked") ?? false
    }

    /// Whether this session (now) holds the session-level lock: false after a silent reconnect.
    public func holdsAdvisoryLock(_ name: LockName) throws(DatabaseError) -> Bool {
        try queryOne("""
            SELECT count(*) > 0 AS held FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
              AND ((classid::bigint << 32) | objid::bigint) = $1::bigint
            """, [name.key])?.bool("held") ?? false
    }

    /// Waits for a session-level lock.
    public func advisoryLock(_ name: LockName) throws(DatabaseError) {
        try query("SELECT pg_advisory_lock($1::bigint)", [name.key])
    }

    public func advisoryUnlock(_ name: LockName) throws(DatabaseError) {
        try query("SELECT pg_advisory_unlock($1::bigint)", [name.key])
    }

    /// Waits for a lock held until the current transaction ends; call it inside `transaction`.
    public func transactionAdvisoryLock(_ name: LockName) throws(DatabaseError) {
        try query("SELECT pg_advisory_xact_lock($1::bigint)", [name.key])
    }
}
