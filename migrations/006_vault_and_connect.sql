-- 006: exchange connection (issue "Exchange connection and the key vault").

-- What validation learned about a stored key, and which master key sealed its blob (for rotation).
ALTER TABLE exchange_credentials
    ADD COLUMN key_id          VARCHAR(32) NOT NULL DEFAULT 'unknown',
    ADD COLUMN permissions     JSONB NOT NULL DEFAULT '[]',
    ADD COLUMN ip_restricted   BOOLEAN,
    ADD COLUMN validated_at    TIMESTAMPTZ,
    ADD COLUMN invalidated_at  TIMESTAMPTZ,
    ADD COLUMN invalid_reason  TEXT,
    ADD COLUMN updated_at      TIMESTAMPTZ NOT NULL DEFAULT NOW();
CREATE INDEX exchange_credentials_key_id ON exchange_credentials (key_id);

-- The audit log also records which key (fingerprint) was used.
ALTER TABLE credential_audit_log ADD COLUMN key_fingerprint VARCHAR(64);

-- SEC-05: at most N exchange calls per user per minute, counted in rows so every process agrees.
CREATE TABLE exchange_call_budget (
    user_id      UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    window_start TIMESTAMPTZ NOT NULL,
    calls        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, window_start)
);

-- Notification outbox: written in the transaction of the event that causes it, sent later (Telegram) and
-- marked sent. `dedupe_key` makes "alert once" a unique-key question.
CREATE TABLE notifications (
    id           BIGSERIAL PRIMARY KEY,
    user_id      UUID REFERENCES users(id) ON DELETE CASCADE,   -- NULL: the operator
    kind         VARCHAR(50) NOT NULL,
    text         TEXT NOT NULL,
    dedupe_key   VARCHAR(200) UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    sent_at      TIMESTAMPTZ
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE sent_at IS NULL;
