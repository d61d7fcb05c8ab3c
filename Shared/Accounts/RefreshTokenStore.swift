import Crypto
import Database
import Foundation

/// Refresh tokens: random 256-bit values handed out once, stored only as SHA-256. Each is single-use and
/// rotated on refresh; presenting an already-used token revokes its whole family (the session it came from),
/// because either the client or a thief holds a stale copy.
public struct RefreshTokenStore {
    let db: Connection
    public static let lifetime: TimeInterval = 30 * 86400

    public init(db: Connection) { self.db = db }

    /// The outcome of presenting a refresh token.
    public enum Rotation: Equatable {
        case rotated(userID: UUID, newToken: String)
        case unknown
        case expired
        case revoked
        /// A used token was presented again: the family is now revoked.
        case reused
    }

    /// Issues a token in a new family (login) or in `family` (rotation).
    public func issue(userID: UUID, family: UUID? = nil, using conn: Connection? = nil) throws(DatabaseError) -> String {
        let token = "sbr_" + Base64URL.encode(SecureRandom.bytes(32))
        try (conn ?? db).query("""
            INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
            VALUES ($1, COALESCE($2::uuid, gen_random_uuid()), $3::bytea, now() + make_interval(secs => $4))
            """, [userID, family, ByteaParameter(SHA256.hash(token)), Int(RefreshTokenStore.lifetime)])
        return token
    }

    public func rotate(_ token: String) throws -> Rotation {
        try db.transaction { tx -> Rotation in
            guard let row = try tx.queryOne("""
                SELECT id, user_id, family_id, used_at IS NOT NULL AS used, revoked_at IS NOT NULL AS revoked,
                       expires_at <= now() AS expired
                FROM refresh_tokens WHERE token_hash = $1::bytea FOR UPDATE
                """, [ByteaParameter(SHA256.hash(token))]) else { return .unknown }
            let family = try row.uuid("family_id")
            if try row.bool("revoked") { return .revoked }
            if try row.bool("used") {
                try tx.query("UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", [family])
                return .reused
            }
            if try row.bool("expired") { return .expired }
            let userID = try row.uuid("user_id")
            let active = try tx.queryOne("SELECT is_active FROM users WHERE id = $1", [userID])?.bool("is_active") ?? false
            guard active else { return .revoked }
            try tx.query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1", [try row.uuid("id")])
            return .rotated(userID: userID, newToken: try issue(userID: userID, family: family, using: tx))
        }
    }

    /// Logout: revokes the family of `token`. Returns false when the token is unknown.
    @discardableResult
    public func revokeFamily(of token: String) throws(DatabaseError) -> Bool {
        try db.queryOne("""
            UPDATE refresh_tokens SET revoked_at = now()
            WHERE family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1::bytea) AND revoked_at IS NULL
            RETURNING id
            """, [ByteaParameter(SHA256.hash(token))]) != nil
    }
}
