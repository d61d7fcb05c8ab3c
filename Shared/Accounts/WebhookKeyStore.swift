import Crypto
import Database
import Foundation

/// A webhook key as listed: never the key itself, only its first characters.
public struct WebhookKeyRecord: Sendable, Equatable {
    public let id: UUID
    public let name: String
    public let prefix: String
    public let createdAt: Date
    public let lastUsedAt: Date?
    public let revokedAt: Date?
    public let requireSignature: Bool
}

/// Keys the ML system uses to call the webhook. Stored as SHA-256 only; the plaintext is shown once, at creation.
public struct WebhookKeyStore {
    let db: Connection

    public init(db: Connection) { self.db = db }

    /// Creates a key; returns the record and the plaintext (`sbk_` + 43 base64url characters). With
    /// `sealSecret`, the key requires signed requests: a signing secret (`sbs_…`) is made, sealed by the caller's
    /// vault (bound to the key id) and returned once as well.
    public func create(name: String, createdBy: UUID?,
                       sealSecret: ((_ secret: String, _ keyID: UUID) -> [UInt8])? = nil) throws -> (WebhookKeyRecord, String, String?) {
        let key = "sbk_" + Base64URL.encode(SecureRandom.bytes(32))
        let id = UUID()
        var secret: String?
        var blob: ByteaParameter?
        if let sealSecret {
            let s = "sbs_" + Base64URL.encode(SecureRandom.bytes(32))
            secret = s
            blob = ByteaParameter(sealSecret(s, id))
        }
        let row = try db.queryOne("""
            INSERT INTO webhook_keys (id, name, key_prefix, key_hash, created_by, require_signature, signing_secret_blob)
            VALUES ($1, $2, $3, $4::bytea, $5, $6, $7::bytea)
            RETURNING id, name, key_prefix, created_at, last_used_at, revoked_at, require_signature
            """, [id, name, String(key.prefix(12)), ByteaParameter(SHA256.hash(key)), createdBy, blob != nil, blob])!
        return (try WebhookKeyStore.record(row), key, secret)
    }

    public func list() throws(DatabaseError) -> [WebhookKeyRecord] {
        var out: [WebhookKeyRecord] = []
        for row in try db.query("SELECT id, name, key_prefix, created_at, last_used_at, revoked_at, require_signature FROM webhook_keys ORDER BY created_at DESC",
                                idempotent: true) {
            out.append(try WebhookKeyStore.record(row))
        }
        return out
    }

    /// Revokes a key; nil when there is no such key. Revoking twice keeps the first time.
    public func revoke(id: UUID) throws(DatabaseError) -> WebhookKeyRecord? {
        try db.queryOne("""
            UPDATE webhook_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1
            RETURNING id, name, key_prefix, created_at, last_used_at, revoked_at, require_signature
            """, [id]).map(WebhookKeyStore.record)
    }

    static func record(_ row: Row) throws(DatabaseError) -> WebhookKeyRecord {
        WebhookKeyRecord(id: try row.uuid("id"), name: try row.string("name"), prefix: try row.string("key_prefix"),
                         createdAt: try row.date("created_at"), lastUsedAt: try row.optionalDate("last_used_at"),
                         revokedAt: try row.optionalDate("revoked_at"), requireSignature: try row.bool("require_signature"))
    }
}
