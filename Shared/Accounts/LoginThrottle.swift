import Database
import Foundation

/// Slows down password guessing per e-mail and per client address, in rows (`auth_throttle`), so every
/// Auth process sees the same counts. After `freeAttempts` failures within `window` (5 per e-mail; 50 per
/// address, since many users can share one NAT address), each further failure locks the key for twice as
/// long as the last (30 s, 60 s, … at most 15 min). A success clears the e-mail key.
public struct LoginThrottle {
    let db: Connection
    public static let freeAttemptsPerEmail = 5
    public static let freeAttemptsPerAddress = 50
    public static let window: TimeInterval = 15 * 60

    public init(db: Connection) { self.db = db }

    /// Seconds until the e-mail or the address may try again, or nil when both may try now.
    public func retryAfter(email: String, address: String) throws(DatabaseError) -> Int? {
        guard let row = try db.queryOne("""
            SELECT ceil(extract(epoch FROM max(locked_until) - now()))::int AS wait
            FROM auth_throttle WHERE key IN ($1, $2) AND locked_until > now()
            """, [LoginThrottle.key(email: email), LoginThrottle.key(address: address)]),
              let wait = try row.optionalInt("wait"), wait > 0 else { return nil }
        return wait
    }

    public static func key(email: String) -> String { "email:" + email }
    public static func key(address: String) -> String { "ip:" + address }

    public func recordFailure(email: String, address: String) throws(DatabaseError) {
        for (key, freeAttempts) in [(LoginThrottle.key(email: email), LoginThrottle.freeAttemptsPerEmail),
                                    (LoginThrottle.key(address: address), LoginThrottle.freeAttemptsPerAddress)] {
            try db.query("""
                INSERT INTO auth_throttle (key, failures, window_started_at) VALUES ($1, 1, now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN auth_throttle.window_started_at < now() - make_interval(secs => $2)
                                    THEN 1 ELSE auth_throttle.failures + 1 END,
                    window_started_at = CASE WHEN auth_throttle.window_started_at < now() - make_interval(secs => $2)
                                    THEN now() ELSE auth_throttle.window_started_at END,
                    locked_until = CASE WHEN auth_throttle.failures + 1 > $3
                                    THEN now() + make_interval(secs => least(900, 30 * power(2, auth_throttle.failures - $3)))
                                    ELSE auth_throttle.locked_until END
                """, [key, Int(LoginThrottle.window), freeAttempts])
        }
    }

    public func clear(_ key: String) throws(DatabaseError) {
        try db.query("DELETE FROM auth_throttle WHERE key = $1", [key])
    }
}
