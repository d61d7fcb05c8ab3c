import Core
import Database
import Domain
import Foundation

/// A user account as the API shows it (UserProfile, seed §3.2) plus what authorisation needs.
public struct UserRecord: Sendable, Equatable {
    public let id: UUID
    public let email: String
    public let role: UserRole
    public let createdAt: Date
    public let tier: SubscriptionTier
    public let limits: TradingLimits
    public let isActive: Bool
    public let connectedExchanges: [String]
    /// The user's Telegram chat for alerts and the daily report (nil: none).
    public let telegramChatID: String?
}

/// Users: sign-up, look-ups, profile limits, and the operator's changes (tier, deactivation).
public struct UserStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    static let columns = """
        u.id, u.email, u.role, u.created_at, u.subscription_tier, u.risk_profile, u.max_daily_trades,
        u.max_position_size_pct, u.is_active, u.telegram_chat_id,
        COALESCE((SELECT json_agg(c.exchange ORDER BY c.exchange) FROM exchange_credentials c
                  WHERE c.user_id = u.id AND c.is_valid)::text, '[]') AS connected_exchanges
        """

    /// Creates the user and their default trading configuration in one transaction. Returns nil when the
    /// e-mail (case-insensitively) is taken.
    public func create(email: String, passwordHash: String, role: UserRole) throws -> UserRecord? {
        try db.transaction { tx in
            guard let row = try tx.queryOne("""
                INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
                ON CONFLICT ((lower(email))) DO NOTHING RETURNING id
                """, [email, passwordHash, role.rawValue]) else { return nil }
            let id = try row.uuid("id")
            try tx.query("INSERT INTO trading_configs (user_id) VALUES ($1)", [id])
            return try UserStore(db: tx).find(id: id)
        }
    }

    public func find(id: UUID) throws(DatabaseError) -> UserRecord? {
        try db.queryOne("SELECT \(UserStore.columns) FROM users u WHERE u.id = $1", [id], idempotent: true).map(UserStore.record)
    }

    /// The user and their password hash, by e-mail (case-insensitive).
    public func credentials(email: String) throws(DatabaseError) -> (UserRecord, String?)? {
        guard let row = try db.queryOne("SELECT \(UserStore.columns), u.password_hash FROM users u WHERE lower(u.email) = lower($1)",
                                        [email], idempotent: true) else { return nil }
        return (try UserStore.record(row), try row.optionalString("password_hash"))
    }

    public func setPasswordHash(id: UUID, hash: String) throws(DatabaseError) {
        try db.query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1", [id, hash])
    }

    public func updateLimits(id: UUID, _ limits: TradingLimits) throws(DatabaseError) {
        try db.query("""
            UPDATE users SET risk_profile = $2, max_daily_trades = $3, max_position_size_pct = $4::numeric, updated_at = now()
            WHERE id = $1
            """, [id, limits.riskProfile.rawValue, limits.maxDailyTrades, "\(limits.maxPositionSizePct)"])
    }

    /// Sets or clears (nil) the user's Telegram chat id.
    public func setTelegramChat(id: UUID, chatID: String?) throws(DatabaseError) {
        try db.query("UPDATE users SET telegram_chat_id = $2, updated_at = now() WHERE id = $1", [id, chatID])
    }

    /// Admin listing, newest first, keyset-paginated after the row `after`.
    public func list(limit: Int, after: UUID?) throws(DatabaseError) -> [UserRecord] {
        let rows = try db.query("""
            SELECT \(UserStore.columns) FROM users u
            WHERE ($1::uuid IS NULL OR (u.created_at, u.id) < (SELECT c.created_at, c.id FROM users c WHERE c.id = $1))
            ORDER BY u.created_at DESC, u.id DESC LIMIT $2
            """, [after, limit], idempotent: true)
        var out: [UserRecord] = []
        for r in rows { out.append(try UserStore.record(r)) }
        return out
    }

    /// Operator changes; returns the updated user, nil when there is no such user.
    public func setTier(id: UUID, tier: SubscriptionTier) throws(DatabaseError) -> UserRecord? {
        guard try db.queryOne("UPDATE users SET subscription_tier = $2, updated_at = now() WHERE id = $1 RETURNING id",
                              [id, tier.rawValue]) != nil else { return nil }
        return try find(id: id)
    }

    /// Deactivation also switches the user's trading off and revokes every session. Call it inside a
    /// transaction (the three updates belong together).
    public func setActive(id: UUID, active: Bool) throws(DatabaseError) -> UserRecord? {
        guard try db.queryOne("UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, active]) != nil else {
            return nil
        }
        if !active {
            try db.query("UPDATE trading_configs SET is_enabled = false, updated_at = now() WHERE user_id = $1", [id])
            try db.query("UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [id])
        }
        return try find(id: id)
    }

    static func record(_ row: Row) throws(DatabaseError) -> UserRecord {
        let exchanges = (try? JSONDecoder().decode([String].self, from: Data(try row.string("connected_exchanges").utf8))) ?? []
        return UserRecord(
            id: try row.uuid("id"), email: try row.string("email"),
            role: UserRole(rawValue: try row.string("role")) ?? .user, createdAt: try row.date("created_at"),
            tier: SubscriptionTier(rawValue: try row.string("subscription_tier")) ?? .free,
            limits: TradingLimits(riskProfile: RiskProfile(rawValue: try row.string("risk_profile")) ?? .moderate,
                                  maxDailyTrades: try row.int("max_daily_trades"),
                                  maxPositionSizePct: Decimal(string: try row.string("max_position_size_pct")) ?? 0),
            isActive: try row.bool("is_active"), connectedExchanges: exchanges, telegramChatID: try row.optionalString("telegram_chat_id"))
    }
}
