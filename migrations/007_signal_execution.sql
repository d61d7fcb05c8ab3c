-- 007: the signal webhook and the execution engine (issue "Signal webhook and execution engine").

-- Signals: which key sent them, and a hash of the payload so a reused signal_id with other content is caught.
ALTER TABLE signals
    ADD COLUMN payload_hash   BYTEA,
    ADD COLUMN webhook_key_id UUID REFERENCES webhook_keys(id) ON DELETE SET NULL;

-- Executions: one per (signal, user, exchange); sized at execution time (quantity unknown at fan-out);
-- claimed with a lease; retried on a schedule; the client order id is derived from the id.
ALTER TABLE executions
    ALTER COLUMN requested_quantity DROP NOT NULL,
    ADD COLUMN client_order_id    VARCHAR(36),
    ADD COLUMN exchange_symbol    VARCHAR(30),
    ADD COLUMN attempts           INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    ADD COLUMN lease_owner        VARCHAR(64),
    ADD COLUMN lease_expires_at   TIMESTAMPTZ,
    ADD COLUMN reference_price    DECIMAL(30,12),
    ADD COLUMN limit_price        DECIMAL(30,12),
    ADD COLUMN stop_loss_price    DECIMAL(30,12),
    ADD COLUMN take_profit_price  DECIMAL(30,12),
    ADD COLUMN submitted_at       TIMESTAMPTZ,
    ADD COLUMN not_found_count    INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN updated_at         TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    ADD CONSTRAINT executions_once UNIQUE (signal_id, user_id, exchange),
    ADD CONSTRAINT executions_client_order_id UNIQUE (client_order_id);
-- Work queue: due executions in the states the engine acts on.
CREATE INDEX executions_due ON executions (next_attempt_at) WHERE status IN ('pending', 'unknown', 'submitted', 'partial');
CREATE INDEX executions_user_day ON executions (user_id, created_at);

-- Users not acted on for a signal, and why (trading disabled, below confidence, daily cap, not connected,
-- credentials invalid, kill switch, symbol not listed).
CREATE TABLE signal_skips (
    id          BIGSERIAL PRIMARY KEY,
    signal_id   UUID NOT NULL REFERENCES signals(id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exchange    VARCHAR(20),
    reason      VARCHAR(40) NOT NULL,
    message     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX signal_skips_signal ON signal_skips (signal_id);
CREATE INDEX signal_skips_user ON signal_skips (user_id, created_at DESC);
