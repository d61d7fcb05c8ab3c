import Accounts
import Identity
import Core
import Crypto
import Database
import Domain
import Foundation
import Runtime

/// Sign-up, login (throttled), refresh-token rotation with reuse detection, logout.
struct AuthHandlers {
    let db: Connection
    let sessions: Sessions
    let hasher: PasswordHasher
    let logger: Logger
    /// Verified when the e-mail is unknown, so a miss costs as much time as a wrong password.
    let decoyHash: String

    init(config: Config, db: Connection, logger: Logger) throws {
        self.db = db
        self.logger = logger
        sessions = try Sessions(config: config, db: db)
        hasher = PasswordHasher(logN: try config.int("PASSWORD_SCRYPT_LOG_N", default: 15, range: 10...20))
        decoyHash = hasher.hash(Base64URL.encode(SecureRandom.bytes(16)))
    }

    func signup(_ req: Request) throws -> Response {
        var body = try FieldReader(req, allowed: ["email", "password"])
        let rawEmail = body.string("email", required: true, maxLength: 254)
        let password = body.string("password", required: true, maxLength: 256)
        let email = rawEmail.flatMap(EmailAddress.normalized)
        if rawEmail != nil && email == nil { body.reject("email", "is not a valid e-mail address") }
        if let password, password.count < 8 { body.reject("password", "must be at least 8 characters") }
        try body.finish()
        guard let user = try UserStore(db: db).create(email: email!, passwordHash: hasher.hash(password!), role: .user) else {
            throw APIError(.conflict, "An account with this e-mail already exists")
        }
        logger.info("user signed up", ["request_id": .string(req.requestID), "user_id": .string(user.id.uuidString.lowercased())])
        let refresh = try RefreshTokenStore(db: db).issue(userID: user.id)
        guard case .object(var token) = sessions.tokenResponse(for: user, refreshToken: refresh) else { throw APIError.internalError() }
        token["user"] = Render.user(user)
        return .json(.object(token), status: 201)
    }

    func login(_ req: Request) throws -> Response {
        var body = try FieldReader(req, allowed: ["email", "password"])
        let rawEmail = body.string("email", required: true, maxLength: 254)
        let password = body.string("password", required: true, maxLength: 256)
        try body.finish()
        let email = EmailAddress.normalized(rawEmail!) ?? rawEmail!.lowercased()
        let address = req.remoteAddress ?? "unknown"
        let throttle = LoginThrottle(db: db)
        if let wait = try throttle.retryAfter(email: email, address: address) {
            throw APIError(.tooManyAttempts, "Too many failed logins; try again in \(wait) s",
                           details: ["retry_after_seconds": .int(wait)], headers: ["Retry-After": String(wait)])
        }
        let users = UserStore(db: db)
        let found = try users.credentials(email: email)
        let stored = found?.1 ?? decoyHash
        let passwordOK = PasswordHasher.verify(password!, against: stored)
        guard let (user, hash) = found, passwordOK, hash != nil, user.isActive else {
            try throttle.recordFailure(email: email, address: address)
            logger.info("login failed", ["request_id": .string(req.requestID)])
            throw APIError(.invalidToken, "Invalid e-mail or password")
        }
        try throttle.clear(LoginThrottle.key(email: email))
        if hasher.needsRehash(hash!) { try users.setPasswordHash(id: user.id, hash: hasher.hash(password!)) }
        let refresh = try RefreshTokenStore(db: db).issue(userID: user.id)
        return .json(sessions.tokenResponse(for: user, refreshToken: refresh))
    }

    func refresh(_ req: Request) throws -> Response {
        var body = try FieldReader(req, allowed: ["refresh_token"])
        let token = body.string("refresh_token", required: true, maxLength: 128)
        try body.finish()
        switch try RefreshTokenStore(db: db).rotate(token!) {
        case .rotated(let userID, let newToken):
            guard let user = try UserStore(db: db).find(id: userID), user.isActive else { throw APIError(.invalidToken, "Invalid refresh token") }
            return .json(sessions.tokenResponse(for: user, refreshToken: newToken))
        case .reused:
            logger.warning("refresh token reused; family revoked", ["request_id": .string(req.requestID)])
            throw APIError(.invalidToken, "Refresh token already used; this session has been revoked, log in again")
        case .expired:
            throw APIError(.expiredToken, "Refresh token expired; log in again")
        case .unknown, .revoked:
            throw APIError(.invalidToken, "Invalid refresh token")
        }
    }

    /// Revokes the session the refresh token belongs to. Idempotent: 204 whether or not it was still valid.
    func logout(_ req: Request) throws -> Response {
        var body = try FieldReader(req, allowed: ["refresh_token"])
        let token = body.string("refresh_token", required: true, maxLength: 128)
        try body.finish()
        try RefreshTokenStore(db: db).revokeFamily(of: token!)
        return .noContent()
    }
}
