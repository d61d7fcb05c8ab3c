-- 010: scheduled functions (issue "Scheduled functions"): reconciliation, dead-letter retry, outbox delivery,
-- daily report; and the daily-cap counter that closes the concurrent-signal race of the fan-out.

-- One row per reconciliation run (seed 004 §3), written once when the run ends; append-only for the app role.
CREATE TABLE reconciliation_runs (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    broker_adapter     TEXT NOT NULL,                 -- the exchanges checked, e.g. 'binance,mexc'
    trigger            VARCHAR(20) NOT NULL DEFAULT 'cron' CHECK (trigger IN ('cron', 'api', 'cli')),
    accounts_checked   INTEGER NOT NULL DEFAULT 0,
    accounts_deferred  INTEGER NOT NULL DEFAULT 0,    -- left for the next run (weight budget)
    orders_synced      INTEGER NOT NULL DEFAULT 0,
    positions_synced   INTEGER NOT NULL DEFAULT 0,
    divergences_found  INTEGER NOT NULL DEFAULT 0,
    divergence_details JSONB NOT NULL DEFAULT '[]',
    actions_taken      JSONB NOT NULL DEFAULT '[]',
    balance_snapshot   JSONB NOT NULL DEFAULT '{}',
    weight_used        JSONB NOT NULL DEFAULT '{}',
    status             TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'error')),
    error_message      TEXT,
    duration_ms        INTEGER,
    started_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_recon_created ON reconciliation_runs (created_at DESC);
CREATE INDEX idx_recon_success ON reconciliation_runs (created_at DESC) WHERE status = 'success';
REVOKE UPDATE, DELETE, TRUNCATE ON reconciliation_runs FROM signalbridge_app;

-- Every divergence once, however many runs see it: alerts go out on the first sighting only.
CREATE TABLE reconciliation_divergences (
    id               BIGSERIAL PRIMARY KEY,
    kind             VARCHAR(30) NOT NULL CHECK (kind IN ('orphan_exchange_order', 'missing_exchange_order', 'status_mismatch', 'fill_mismatch')),
    exchange         VARCHAR(20) NOT NULL,
    user_id          UUID REFERENCES users(id) ON DELETE CASCADE,
    client_order_id  VARCHAR(64) NOT NULL,
    execution_id     UUID REFERENCES executions(id) ON DELETE SET NULL,
    details          JSONB NOT NULL DEFAULT '{}',
    action           TEXT NOT NULL,
    first_seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    times_seen       INTEGER NOT NULL DEFAULT 1,
    first_run_id     UUID,
    UNIQUE (kind, exchange, client_order_id)
);
CREATE INDEX reconciliation_divergences_seen ON reconciliation_divergences (first_seen_at);

-- Where each connected account stands in the reconciliation rotation.
ALTER TABLE exchange_credentials ADD COLUMN reconciled_at TIMESTAMPTZ;

-- Retries of failed executions (the job's own count, apart from the engine's claim attempts) and manual
-- retries (which a person asked for: the signal's age gate does not apply to them).
ALTER TABLE executions
    ADD COLUMN retries       INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN retried_at    TIMESTAMPTZ,
    ADD COLUMN manual_retry  BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX executions_failed ON executions (updated_at) WHERE status = 'failed';
CREATE INDEX executions_dead_letter ON executions (updated_at) WHERE status = 'dead_letter';

-- Outbox delivery: a lease while one sender works a row, the outcome, and Telegram's message id.
ALTER TABLE notifications
    ADD COLUMN lease_until          TIMESTAMPTZ,
    ADD COLUMN closed_at            TIMESTAMPTZ,
    ADD COLUMN outcome              VARCHAR(20) CHECK (outcome IN ('sent', 'no_chat', 'refused', 'expired')),
    ADD COLUMN chat_id              VARCHAR(64),
    ADD COLUMN telegram_message_id  BIGINT;
CREATE INDEX notifications_open ON notifications (next_attempt_at) WHERE closed_at IS NULL;

-- Once-per-period tasks (daily report): the row is the claim, taken from the database clock.
CREATE TABLE periodic_runs (
    task         VARCHAR(50) NOT NULL,
    period       VARCHAR(20) NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    details      JSONB NOT NULL DEFAULT '{}',
    PRIMARY KEY (task, period)
);

-- Signals acted on per user and UTC day, reserved by the fan-out with a guarded upsert: two concurrent
-- signals cannot both take the last slot of a daily cap (each statement's snapshot alone would allow it).
CREATE TABLE daily_trade_counts (
    user_id  UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      DATE NOT NULL,
    trades   INTEGER NOT NULL,
    cap      INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
