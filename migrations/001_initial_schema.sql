-- 001: the seed specification's schema (§5.1), unchanged in shape; NOT NULL added where the seed gave a
-- default that code relies on. Later migrations extend it (never edit an applied file: `migrate` refuses).

-- ═══════════════ USERS ═══════════════
CREATE TABLE users (
    id                    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email                 VARCHAR(255) UNIQUE NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    subscription_tier     VARCHAR(20) NOT NULL DEFAULT 'free',
    risk_profile          VARCHAR(20) NOT NULL DEFAULT 'moderate',
    max_daily_trades      INTEGER NOT NULL DEFAULT 10,
    max_position_size_pct DECIMAL(5,4) NOT NULL DEFAULT 0.02,
    is_active             BOOLEAN NOT NULL DEFAULT TRUE,

    CONSTRAINT valid_tier CHECK (subscription_tier IN ('free', 'pro', 'enterprise')),
    CONSTRAINT valid_risk CHECK (risk_profile IN ('conservative', 'moderate', 'aggressive'))
);

-- ═══════════════ EXCHANGE CREDENTIALS ═══════════════
CREATE TABLE exchange_credentials (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    exchange        VARCHAR(20) NOT NULL,
    encrypted_blob  BYTEA NOT NULL,
    key_fingerprint VARCHAR(64) NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_used_at    TIMESTAMPTZ,
    is_valid        BOOLEAN NOT NULL DEFAULT TRUE,

    CONSTRAINT valid_exchange CHECK (exchange IN ('mexc', 'binance')),
    UNIQUE (user_id, exchange)
);

-- ═══════════════ TRADING CONFIG ═══════════════
CREATE TABLE trading_configs (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id              UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    symbol               VARCHAR(20) NOT NULL DEFAULT 'USD/COP',
    is_enabled           BOOLEAN NOT NULL DEFAULT FALSE,
    stop_loss_pct        DECIMAL(5,4) NOT NULL DEFAULT 0.02,
    take_profit_pct      DECIMAL(5,4) NOT NULL DEFAULT 0.05,
    min_confidence       DECIMAL(3,2) NOT NULL DEFAULT 0.70,
    execute_on_exchanges JSONB NOT NULL DEFAULT '["mexc", "binance"]',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- ═══════════════ SIGNALS ═══════════════
CREATE TABLE signals (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    signal_id         VARCHAR(50) UNIQUE NOT NULL,
    timestamp         TIMESTAMPTZ NOT NULL,
    symbol            VARCHAR(20) NOT NULL,
    action            SMALLINT NOT NULL,
    confidence        DECIMAL(4,3) NOT NULL,
    model_version     VARCHAR(20),
    source            VARCHAR(20) DEFAULT 'ml_model',
    features_snapshot JSONB,
    received_at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT valid_action CHECK (action IN (0, 1, 2))
);

CREATE INDEX idx_signals_timestamp ON signals (timestamp DESC);

-- ═══════════════ EXECUTIONS ═══════════════
CREATE TABLE executions (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id         VARCHAR(50) UNIQUE NOT NULL,
    user_id            UUID NOT NULL REFERENCES users(id),
    signal_id          UUID NOT NULL REFERENCES signals(id),
    exchange           VARCHAR(20) NOT NULL,
    symbol             VARCHAR(20) NOT NULL,
    side               VARCHAR(10) NOT NULL,
    order_type         VARCHAR(20) NOT NULL DEFAULT 'market',
    requested_quantity DECIMAL(20,8) NOT NULL,
    exchange_order_id  VARCHAR(100),
    status             VARCHAR(20) NOT NULL DEFAULT 'pending',
    filled_quantity    DECIMAL(20,8),
    filled_price       DECIMAL(20,8),
    fees               DECIMAL(20,8),
    fees_currency      VARCHAR(10),
    executed_at        TIMESTAMPTZ,
    error_message      TEXT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT NOW(),

    CONSTRAINT valid_status CHECK (status IN
        ('pending', 'submitted', 'partial', 'filled', 'cancelled', 'rejected', 'failed'))
);

CREATE INDEX idx_executions_user ON executions (user_id, created_at DESC);
CREATE INDEX idx_executions_signal ON executions (signal_id);

-- ═══════════════ AUDIT LOG ═══════════════
CREATE TABLE credential_audit_log (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       UUID REFERENCES users(id),
    exchange      VARCHAR(20) NOT NULL,
    action        VARCHAR(50) NOT NULL,  -- 'validate', 'use_for_trade', 'rotate'
    ip_address    INET,
    user_agent    TEXT,
    success       BOOLEAN,
    error_message TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_audit_user ON credential_audit_log (user_id, created_at DESC);
