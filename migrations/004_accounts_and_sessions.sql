-- 004: accounts and sessions (issue "Users, authentication and the REST API"), operator settings, and the
-- append-only event log of executions.

-- Users sign in with a password (scrypt, Shared/Crypto/PasswordHasher.swift) and have a role.
ALTER TABLE users
    ADD COLUMN password_hash TEXT,
    ADD COLUMN role VARCHAR(10) NOT NULL DEFAULT 'user',
    ADD COLUMN telegram_chat_id BIGINT,
    ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    ADD CONSTRAINT valid_role CHECK (role IN ('user', 'admin')),
    ADD CONSTRAINT valid_max_daily_trades CHECK (max_daily_trades BETWEEN 1 AND 100),
    ADD CONSTRAINT valid_position_size CHECK (max_position_size_pct BETWEEN 0.001 AND 0.1);
-- RN-U04: one account per e-mail, case-insensitively.
CREATE UNIQUE INDEX users_email_lower ON users ((lower(email)));
CREATE INDEX users_created ON users (created_at DESC, id DESC);

-- Refresh tokens: only their SHA-256 is stored; single use; a family is one login's chain of rotations.
CREATE TABLE refresh_tokens (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    family_id   UUID NOT NULL,
    token_hash  BYTEA NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Failed-login counters per e-mail and per client address, shared by every Auth process.
CREATE TABLE auth_throttle (
    key               TEXT PRIMARY KEY,
    failures          INTEGER NOT NULL DEFAULT 0,
    window_started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    locked_until      TIMESTAMPTZ
);

-- Keys the ML system uses on the webhook; only their SHA-256 is stored.
CREATE TABLE webhook_keys (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name         VARCHAR(100) NOT NULL,
    key_prefix   VARCHAR(16) NOT NULL,
    key_hash     BYTEA NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    created_by   UUID REFERENCES users(id) ON DELETE SET NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Operator settings. The kill switch starts engaged: nothing trades until an operator releases it.
CREATE TABLE system_settings (
    key        TEXT PRIMARY KEY,
    value      JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_by UUID REFERENCES users(id) ON DELETE SET NULL
);
INSERT INTO system_settings (key, value) VALUES ('kill_switch', '{"engaged": true, "reason": "initial state"}');

-- The order state machine adds `unknown` (response lost, to reconcile) and `dead_letter` (retries exhausted).
ALTER TABLE executions DROP CONSTRAINT valid_status;
ALTER TABLE executions ADD CONSTRAINT valid_status CHECK (status IN
    ('pending', 'submitted', 'partial', 'filled', 'cancelled', 'rejected', 'failed', 'unknown', 'dead_letter'));

-- Every state change of an execution, immutable: who, what, when, why; correlation id = the signal id.
CREATE TABLE execution_events (
    id             BIGSERIAL PRIMARY KEY,
    execution_id   UUID NOT NULL REFERENCES executions(id),
    from_status    VARCHAR(20),
    to_status      VARCHAR(20) NOT NULL,
    reason         TEXT,
    actor          VARCHAR(50) NOT NULL,
    correlation_id VARCHAR(50),
    details        JSONB,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX execution_events_execution ON execution_events (execution_id, id);

-- Append-only for the application role (security rule: log tables cannot be rewritten by the app).
REVOKE UPDATE, DELETE, TRUNCATE ON execution_events, credential_audit_log FROM signalbridge_app;
