import Core
import Crypto
import Database
import Foundation
import Testing
import Vault

/// Master-key rotation on the real database: a mix of blobs under the old and the new key, re-sealed in
/// batches, resumable, every blob opening to the same plaintext afterwards.
extension Integration {
    @Suite struct VaultRotationTests {
        @Test func rotatesAMixedSetResumably() throws {
            // A scratch schema with its own copy of the table: rotation re-seals every row not under the current key,
            // and the stack's own rows (sealed with its master key) must stay untouched.
            let db = Stack.ownerConnection()
            let schema = "rot_" + UUID().uuidString.prefix(8).lowercased()
            try db.executeScript("""
                CREATE SCHEMA \(schema); SET search_path TO \(schema), public;
                CREATE TABLE exchange_credentials (LIKE public.exchange_credentials INCLUDING ALL);
                CREATE TABLE webhook_keys (LIKE public.webhook_keys INCLUDING ALL)
                """)
            defer { try? db.executeScript("DROP SCHEMA \(schema) CASCADE") }
            let k1 = SecureRandom.bytes(32), k2 = SecureRandom.bytes(32)
            let oldVault = try Vault(keys: ["rot-old": k1], currentKeyID: "rot-old")
            let newVault = try Vault(keys: ["rot-old": k1, "rot-new": k2], currentKeyID: "rot-new")
            var expected: [UUID: [UInt8]] = [:]
            var users: [UUID] = []
            for i in 0..<7 {
                let userID = UUID()
                users.append(userID)
                let plaintext = SealedCredentials.encode(apiKey: Secret("rot-key-\(i)"), apiSecret: Secret("rot-secret-\(i)"))
                let vault = i % 3 == 0 ? newVault : oldVault
                try db.query("""
                    INSERT INTO exchange_credentials (user_id, exchange, encrypted_blob, key_fingerprint, key_id)
                    VALUES ($1, 'mexc', $2::bytea, 'f', $3)
                    """, [userID, ByteaParameter(vault.seal(plaintext, userID: userID, exchange: "mexc")), vault.currentKeyID])
                expected[userID] = plaintext
            }
            let mine = "user_id = ANY($1::uuid[])"
            let ids = "{" + users.map { $0.uuidString.lowercased() }.joined(separator: ",") + "}"
            #expect(try db.queryOne("SELECT count(*) AS n FROM exchange_credentials WHERE \(mine) AND key_id = 'rot-old'", [ids])?.int("n") == 4)

            // A signed webhook key's signing secret under the old key is re-sealed too (else removing the old key
            // would break signed webhooks).
            let webhookKey = UUID()
            try db.query("""
                INSERT INTO webhook_keys (id, name, key_hash, key_prefix, require_signature, signing_secret_blob)
                VALUES ($1, 'rot', $2::bytea, 'sbk_rot', true, $3::bytea)
                """, [webhookKey, ByteaParameter(SHA256.hash("rot-key")),
                      ByteaParameter(oldVault.seal(Array("sbs_rot-signing".utf8), userID: webhookKey, exchange: "webhook-signing"))])

            // Interrupted after 2 rows, then resumed: every blob ends under the new key and opens to the same secret.
            let rotation = VaultRotation(db: db, vault: newVault)
            #expect(try rotation.run(batchSize: 1, limit: 2) == 2)
            #expect(try db.queryOne("SELECT count(*) AS n FROM exchange_credentials WHERE \(mine) AND key_id = 'rot-old'", [ids])?.int("n") == 2)
            _ = try rotation.run(batchSize: 3)
            #expect(try db.queryOne("SELECT count(*) AS n FROM exchange_credentials WHERE \(mine) AND key_id = 'rot-old'", [ids])?.int("n") == 0)
            #expect(try rotation.remaining() == 0)
            let onlyNew = try Vault(keys: ["rot-new": k2], currentKeyID: "rot-new")
            let signing = try #require(try db.queryOne("SELECT signing_secret_blob FROM webhook_keys WHERE id = $1", [webhookKey]))
            #expect(try onlyNew.open(try signing.bytes("signing_secret_blob"), userID: webhookKey, exchange: "webhook-signing")
                    == Array("sbs_rot-signing".utf8))
            for row in try db.query("SELECT user_id, encrypted_blob FROM exchange_credentials WHERE \(mine)", [ids]) {
                let user = try row.uuid("user_id")
                #expect(try onlyNew.open(try row.bytes("encrypted_blob"), userID: user, exchange: "mexc") == expected[user])
            }
        }
    }
}
