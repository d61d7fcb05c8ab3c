import Accounts
import Identity
import Core
import Database
import Domain
import Foundation
import Runtime
import Vault

struct AdminHandlers {
    let db: Connection
    let sessions: Sessions
    let logger: Logger
    let vault: Vault

    init(config: Config, db: Connection, logger: Logger) throws {
        self.db = db
        self.logger = logger
        sessions = try Sessions(config: config, db: db)
        vault = try Vault.fromConfig(config)
    }

    func listUsers(_ req: Request) throws -> Response {
        _ = try sessions.requireAdmin(req)
        let limit = try Render.limit(req)
        let users = try UserStore(db: db).list(limit: limit, after: try Render.cursor(req.query("cursor")))
        var response = Response.json(.array(users.map(Render.user)))
        if users.count == limit, let last = users.last {
            response.headers.append(("X-Next-Cursor", Render.cursor(id: last.id.uuidString.lowercased())))
        }
        return response
    }

    /// `{subscription_tier?, is_active?}`. Deactivation switches the user's trading off and ends their sessions.
    func updateUser(_ req: Request) throws -> Response {
        let admin = try sessions.requireAdmin(req)
        let id = try Render.uuid(req, "id")
        var body = try FieldReader(req, allowed: ["subscription_tier", "is_active"])
        let tierText = body.string("subscription_tier", maxLength: 20)
        let tier = tierText.flatMap(SubscriptionTier.init(rawValue:))
        if tierText != nil && tier == nil { body.reject("subscription_tier", "must be free, pro or enterprise") }
        let active = body.bool("is_active")
        if tierText == nil && active == nil { body.reject("subscription_tier", "give subscription_tier or is_active") }
        try body.finish()
        if active == false && id == admin.userID { throw APIError(.conflict, "You cannot deactivate your own account") }
        let user = try db.transaction { tx -> UserRecord in
            let store = UserStore(db: tx)
            guard var user = try store.find(id: id) else { throw APIError.notFound("No such user") }
            if let tier { user = try store.setTier(id: id, tier: tier) ?? user }
            if let active { user = try store.setActive(id: id, active: active) ?? user }
            return user
        }
        logger.info("user updated by admin", ["request_id": .string(req.requestID), "admin_id": .string(admin.userID.uuidString.lowercased()),
                                              "user_id": .string(id.uuidString.lowercased())])
        return .json(Render.user(user))
    }

    func listKeys(_ req: Request) throws -> Response {
        _ = try sessions.requireAdmin(req)
        return .json(.array(try WebhookKeyStore(db: db).list().map(AdminHandlers.render)))
    }

    /// 201 with the key in plaintext: the only time it is ever shown.
    func createKey(_ req: Request) throws -> Response {
        let admin = try sessions.requireAdmin(req)
        var body = try FieldReader(req, allowed: ["name", "require_signature"])
        let name = body.string("name", required: true, maxLength: 100)
        if let name, name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { body.reject("name", "must not be empty") }
        let signed = body.bool("require_signature") ?? false
        try body.finish()
        let vault = self.vault
        let (record, key, secret) = try WebhookKeyStore(db: db).create(
            name: name!, createdBy: admin.userID,
            sealSecret: signed ? { s, id in vault.seal(Array(s.utf8), userID: id, exchange: "webhook-signing") } : nil)
        guard case .object(var o) = AdminHandlers.render(record) else { throw APIError.internalError() }
        o["key"] = .string(key)
        o["signing_secret"] = secret.map(JSONValue.string) ?? .null
        return .json(.object(o), status: 201)
    }

    func revokeKey(_ req: Request) throws -> Response {
        _ = try sessions.requireAdmin(req)
        guard try WebhookKeyStore(db: db).revoke(id: try Render.uuid(req, "id")) != nil else { throw APIError.notFound("No such webhook key") }
        return .noContent()
    }

    func killSwitch(_ req: Request) throws -> Response {
        _ = try sessions.requireAdmin(req)
        return .json(AdminHandlers.render(try KillSwitch(db: db).state()))
    }

    /// `{engaged, reason?}`: engaged stops all new orders at once.
    func setKillSwitch(_ req: Request) throws -> Response {
        let admin = try sessions.requireAdmin(req)
        var body = try FieldReader(req, allowed: ["engaged", "reason"])
        let engaged = body.bool("engaged", required: true)
        let reason = body.string("reason", maxLength: 500)
        try body.finish()
        let state = try KillSwitch(db: db).set(engaged: engaged!, reason: reason, by: admin.userID)
        logger.warning("kill switch changed", ["request_id": .string(req.requestID), "engaged": .bool(engaged!),
                                               "admin_id": .string(admin.userID.uuidString.lowercased())])
        return .json(AdminHandlers.render(state))
    }

    static func render(_ k: WebhookKeyRecord) -> JSONValue {
        [
            "id": .string(k.id.uuidString.lowercased()), "name": .string(k.name), "prefix": .string(k.prefix),
            "created_at": .string(Timestamp.iso8601(k.createdAt)),
            "last_used_at": k.lastUsedAt.map { .string(Timestamp.iso8601($0)) } ?? .null,
            "revoked_at": k.revokedAt.map { .string(Timestamp.iso8601($0)) } ?? .null,
            "require_signature": .bool(k.requireSignature),
        ]
    }

    static func render(_ s: KillSwitch.State) -> JSONValue {
        [
            "engaged": .bool(s.engaged), "reason": s.reason.map(JSONValue.string) ?? .null,
            "updated_at": .string(Timestamp.iso8601(s.updatedAt)),
            "updated_by": s.updatedBy.map { .string($0.uuidString.lowercased()) } ?? .null,
        ]
    }
}
