-- 008: optional signed mode per webhook key: requests must carry an HMAC-SHA256 over "timestamp.body" made
-- with a signing secret that never travels with the request, within a freshness window, so a captured request
-- cannot be replayed later. The secret is sealed by the vault (AES-256-GCM, bound to the key's id).
ALTER TABLE webhook_keys
    ADD COLUMN require_signature   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN signing_secret_blob BYTEA,
    ADD CONSTRAINT signed_keys_have_a_secret CHECK (NOT require_signature OR signing_secret_blob IS NOT NULL);
