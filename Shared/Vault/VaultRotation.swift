import Database
import Foundation

/// Re-seals every stored blob under the vault's current master key, in small transactions, so it can run
/// while the system serves (rows being re-sealed are skipped by nobody: readers never lock them) and can be
/// stopped and resumed at any point: what is left is exactly the rows whose `key_id` is not the current one.
public struct VaultRotation {
    let db: Connection
    let vault: Vault

    public init(db: Connection, vault: Vault) {
        self.db = db
        self.vault = vault
    }

    /// Rows still sealed with another key: exchange credentials and webhook signing secrets.
    public func remaining() throws(DatabaseError) -> Int {
        let credentials = try db.queryOne("SELECT count(*) AS n FROM exchange_credentials WHERE key_id <> $1", [vault.currentKeyID],
                                          idempotent: true)?.int("n") ?? 0
        return credentials + (try staleSigningSecrets(on: db).count)
    }

    /// Webhook keys whose signing secret is sealed under another key (few rows: the key id is read from each blob).
    func staleSigningSecrets(on db: Connection, lock: Bool = false) throws(DatabaseError) -> [(id: UUID, blob: [UInt8])] {
        try db.query("SELECT id, signing_secret_blob FROM webhook_keys WHERE signing_secret_blob IS NOT NULL ORDER BY id"
                     + (lock ? " FOR UPDATE" : ""))
            .map { r throws(DatabaseError) in (try r.uuid("id"), try r.bytes("signing_secret_blob")) }
            .filter { Vault.keyID(of: $0.blob) != vault.currentKeyID }
    }

    /// Re-seals up to `batchSize` rows per transaction until none is left; returns how many were re-sealed.
    /// `limit` stops early (for tests of resumption).
    public func run(batchSize: Int = 100, limit: Int? = nil, progress: (Int) -> Void = { _ in }) throws -> Int {
        var done = 0
        while limit.map({ done < $0 }) ?? true {
            let take = min(batchSize, limit.map { $0 - done } ?? batchSize)
            let count = try db.transaction { tx -> Int in
                let rows = try tx.query("""
                    SELECT id, user_id, exchange, encrypted_blob FROM exchange_credentials
                    WHERE key_id <> $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                    """, [vault.currentKeyID, take])
                for row in rows {
                    let userID = try row.uuid("user_id"), exchange = try row.string("exchange")
                    let plaintext = try vault.open(try row.bytes("encrypted_blob"), userID: userID, exchange: exchange)
                    try tx.query("UPDATE exchange_credentials SET encrypted_blob = $2::bytea, key_id = $3, updated_at = now() WHERE id = $1",
                                 [try row.uuid("id"), ByteaParameter(vault.seal(plaintext, userID: userID, exchange: exchange)), vault.currentKeyID])
                }
                return rows.count
            }
            if count == 0 {
                // The credentials are done: the webhook signing secrets (a handful) in one transaction.
                done += try db.transaction { tx -> Int in
                    let stale = try staleSigningSecrets(on: tx, lock: true)
                    for (id, blob) in stale {
                        let secret = try vault.open(blob, userID: id, exchange: "webhook-signing")
                        try tx.query("UPDATE webhook_keys SET signing_secret_blob = $2::bytea WHERE id = $1",
                                     [id, ByteaParameter(vault.seal(secret, userID: id, exchange: "webhook-signing"))])
                    }
                    return stale.count
                }
                progress(done)
                break
            }
            done += count
            progress(done)
        }
        return done
    }
}
