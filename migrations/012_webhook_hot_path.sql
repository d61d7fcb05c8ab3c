-- 012: the webhook's hot path.
-- Every signal insert checked its foreign key to webhook_keys with a FOR KEY SHARE lock on the same key row; with
-- concurrent requests from one key those locks pile up as MultiXacts on that row. Keys are never deleted (they
-- are revoked), so the reference is kept as a plain column: which key sent a signal is still recorded.
ALTER TABLE signals DROP CONSTRAINT IF EXISTS signals_webhook_key_id_fkey;
