import Accounts
import Core
import Crypto
import Database
import Domain
import Foundation
import Runtime

/// The caller of a protected route: a verified access token whose user still exists and is active.
public struct UserSession: Sendable {
    public let user: UserRecord
    public var userID: UUID { user.id }
    public var isAdmin: Bool { user.role == .admin }
}

/// Issues access tokens (JWT HS256, 1 h; claims per UserSession: sub/user_id, email, role, iat, exp) and
/// checks them on every protected route. The user row is read on each request, so deactivation and role
/// changes take effect at once rather than when the token expires.
public struct Sessions {
    public static let accessLifetime: TimeInterval = 3600
    let jwt: JWT
    let db: Connection

    /// `JWT_SECRET` (or `JWT_SECRET_FILE`), at least 32 characters.
    public init(config: Config, db: Connection) throws(ConfigError) {
        jwt = try JWT(secret: try config.requireSecret("JWT_SECRET"))
        self.db = db
    }

    /// An AuthToken body (seed §3.1) with a new access token and the given refresh token.
    public func tokenResponse(for user: UserRecord, refreshToken: String, now: Date = Date()) -> JSONValue {
        let iat = Int(now.timeIntervalSince1970)
        let exp = iat + Int(Sessions.accessLifetime)
        let token = jwt.sign([
            "sub": .string(user.id.uuidString.lowercased()), "user_id": .string(user.id.uuidString.lowercased()),
            "email": .string(user.email), "role": .string(user.role.rawValue), "iat": .int(iat), "exp": .int(exp),
            "jti": .string(Base64URL.encode(SecureRandom.bytes(12))),
        ])
        return [
            "access_token": .string(token), "token_type": "bearer",
            "expires_at": .string(Timestamp.iso8601(Date(timeIntervalSince1970: TimeInterval(exp)))),
            "refresh_token": .string(refreshToken),
        ]
    }

    /// 401 `AUTH_1001` (missing, malformed, bad signature, unknown or inactive user) or `AUTH_1002` (expired).
    public func require(_ request: Request) throws -> UserSession {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
            throw Sessions.unauthorized("Missing bearer token")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let claims: [String: JSONValue]
        do {
            claims = try jwt.verify(token)
        } catch .expired {
            throw APIError(.expiredToken, "Access token expired; refresh it", headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""])
        } catch {
            throw Sessions.unauthorized("Invalid access token")
        }
        guard let sub = claims["sub"]?.string, let id = UUID(uuidString: sub),
              let user = try UserStore(db: db).find(id: id), user.isActive else {
            throw Sessions.unauthorized("Invalid access token")
        }
        return UserSession(user: user)
    }

    /// As `require`, and the caller must be an admin (403 `AUTH_1003` otherwise).
    public func requireAdmin(_ request: Request) throws -> UserSession {
        let session = try require(request)
        guard session.isAdmin else { throw APIError(.forbidden, "Administrator role required") }
        return session
    }

    static func unauthorized(_ message: String) -> APIError {
        APIError(.invalidToken, message, headers: ["WWW-Authenticate": "Bearer"])
    }
}

/// JSON renderings shared by several functions.
public enum Render {
    public static func user(_ u: UserRecord) -> JSONValue {
        [
            "id": .string(u.id.uuidString.lowercased()), "email": .string(u.email), "role": .string(u.role.rawValue),
            "created_at": .string(Timestamp.iso8601(u.createdAt)), "subscription_tier": .string(u.tier.rawValue),
            "risk_profile": .string(u.limits.riskProfile.rawValue), "max_daily_trades": .int(u.limits.maxDailyTrades),
            "max_position_size_pct": .double(NSDecimalNumber(decimal: u.limits.maxPositionSizePct).doubleValue),
            "connected_exchanges": .array(u.connectedExchanges.map { .string($0) }), "is_active": .bool(u.isActive),
            "telegram_chat_id": u.telegramChatID.map(JSONValue.string) ?? .null,
        ]
    }

    /// Pagination cursors are the last row's id, base64url-encoded (opaque to clients); the store compares
    /// against that row's exact (created_at, id), so no row is skipped or repeated.
    public static func cursor(_ raw: String?) throws(APIError) -> UUID? {
        guard let raw else { return nil }
        guard let bytes = Base64URL.decode(raw), let text = String(bytes: bytes, encoding: .utf8), let id = UUID(uuidString: text) else {
            throw APIError.validation([FieldProblem("cursor", "is not a cursor this API returned")])
        }
        return id
    }

    public static func cursor(id: String) -> String { Base64URL.encode(Array(id.utf8)) }

    /// `limit` query parameter: default 50, 1…200.
    public static func limit(_ request: Request) throws(APIError) -> Int {
        guard let raw = request.query("limit") else { return 50 }
        guard let n = Int(raw), (1...200).contains(n) else {
            throw APIError.validation([FieldProblem("limit", "must be an integer between 1 and 200")])
        }
        return n
    }

    /// A UUID path parameter; malformed ids are simply not found (404), like ids of other users.
    public static func uuid(_ request: Request, _ name: String) throws(APIError) -> UUID {
        guard let raw = request.parameter(name), let id = UUID(uuidString: raw) else { throw APIError.notFound("No such resource") }
        return id
    }
}
