/// The webhook's SQL, in one place. Parameters only; nothing here is built from input.
enum Queries {
    /// Why `receive` stored nothing: unknown/revoked key, known signal_id (replay), or symbol not listed.
    static let diagnose = """
        SELECT EXISTS (SELECT 1 FROM webhook_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL
                       AND (NOT require_signature OR $3::boolean)) AS key_ok,
               EXISTS (SELECT 1 FROM exchange_symbols WHERE symbol = $2 AND is_enabled) AS symbol_ok
        """

    static let keyValid = "SELECT 1 FROM webhook_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL"

    /// A signed request's key and its sealed signing secret.
    static let signingKey = """
        SELECT id, signing_secret_blob FROM webhook_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL AND require_signature
        """

    /// The original acknowledgment of a known signal_id (replay: rare, so counted here rather than stored), its
    /// reason included (HOLD; halted: its users were skipped for the kill switch).
    static let findSignal = """
        SELECT s.received_at, s.payload_hash,
               -- The decision while it waits to be expanded, then the executions it became (never both).
               COALESCE((SELECT cardinality(f.user_ids) FROM signal_fanouts f WHERE f.signal_id = s.id),
                        (SELECT count(*) FROM executions e WHERE e.signal_id = s.id))::int AS executions,
               (SELECT count(*) FROM signal_skips k WHERE k.signal_id = s.id)::int AS skipped,
               s.action, EXISTS (SELECT 1 FROM signal_skips k WHERE k.signal_id = s.id AND k.reason = 'kill_switch') AS halted
        FROM signals s WHERE s.signal_id = $1
        """

    /// What both receiving statements start with: the key (unrevoked; signed when it requires it — `$signed`),
    /// and the signal inserted if its symbol is listed and its id is new. Parameters $1–$10 are the same in both.
    private static func keyAndSignal(signed: String) -> String {
        """
        WITH key AS (
            SELECT id, last_used_at FROM webhook_keys
            WHERE key_hash = $9::bytea AND revoked_at IS NULL AND (NOT require_signature OR \(signed)::boolean)
        ), ins AS (
            INSERT INTO signals (signal_id, timestamp, symbol, action, confidence, model_version, source, features_snapshot,
                                 payload_hash, webhook_key_id)
            SELECT $1::text, $2::timestamptz, $3::text, $4::int, $5::numeric, $6::text, $7::text, $8::jsonb, $10::bytea, k.id FROM key k
            WHERE EXISTS (SELECT 1 FROM exchange_symbols WHERE symbol = $3::text AND is_enabled)
            ON CONFLICT (signal_id) DO NOTHING
            RETURNING id, received_at
        )
        """
    }

    /// HOLD: authenticate the key and insert the signal — nothing to fan out. Same columns as `receive`. A
    /// statement of its own because PostgreSQL opens and locks every table and index a statement names, even in
    /// CTEs that produce no row: `receive` for a HOLD cost 2.5× this statement's database CPU (docs/benchmarks.md).
    static let receiveHold = keyAndSignal(signed: "$11") + """
        SELECT ins.id, ins.received_at, 0 AS executions, 0 AS skipped, false AS halted,
               (SELECT last_used_at IS NULL OR last_used_at < now() - interval '60 seconds' FROM key) AS touch_due
        FROM ins
        """

    /// BUY/SELL. One statement, one round trip, one commit: authenticate the key, insert the signal if its symbol
    /// is listed and its id is new, and decide its fan-out: every active user × every exchange in their list is
    /// either eligible or a recorded skip with its reason, and each eligible user's daily-cap slot is reserved.
    /// Eligibility: kill switch off, trading enabled, confidence ≥ the user's minimum, today's trades under the
    /// cap (FREE: 5, RN-U01; else max_daily_trades), exchange connected with valid credentials, symbol listed
    /// there. The eligible pairs are stored as one `signal_fanouts` row, which the engine turns into execution
    /// rows right after the response (`FanoutStore`; migration 018 says why).
    static let receive = keyAndSignal(signed: "$12") + """
        , params AS (
            SELECT ins.id AS signal_uuid, $5::numeric AS confidence, $3::text AS symbol,
                   (NOT $11::boolean OR COALESCE((SELECT (value->>'engaged')::boolean FROM system_settings WHERE key = 'kill_switch'), true)) AS halted
            FROM ins WHERE $4::int <> 1
        ), candidates AS (
            SELECT u.id AS user_id, u.subscription_tier, u.max_daily_trades, tc.is_enabled, tc.min_confidence,
                   x.exchange, ec.id AS cred_id, ec.is_valid AS cred_valid, es.exchange_symbol,
                   -- Today's count: the user's daily_trade_counts row, reserved by every decision that made them eligible
                   -- (in its transaction, so it is the count); none yet today → 0.
                   COALESCE(t.trades, 0) AS trades_today
            FROM users u
            JOIN trading_configs tc ON tc.user_id = u.id
            LEFT JOIN daily_trade_counts t ON t.user_id = u.id AND t.day = (now() AT TIME ZONE 'UTC')::date
            LEFT JOIN LATERAL jsonb_array_elements_text(tc.execute_on_exchanges) AS x(exchange) ON true
            LEFT JOIN exchange_credentials ec ON ec.user_id = u.id AND ec.exchange = x.exchange
            LEFT JOIN exchange_symbols es ON es.symbol = (SELECT symbol FROM params) AND es.exchange = x.exchange AND es.is_enabled
            WHERE u.is_active AND EXISTS (SELECT 1 FROM params)
        ), decided AS (
            SELECT c.*, CASE
                WHEN p.halted THEN 'kill_switch'
                WHEN NOT c.is_enabled THEN 'trading_disabled'
                WHEN p.confidence < c.min_confidence THEN 'below_confidence'
                WHEN c.exchange IS NULL THEN 'no_exchange_selected'
                WHEN c.trades_today >= CASE WHEN c.subscription_tier = 'free' THEN LEAST(c.max_daily_trades, 5) ELSE c.max_daily_trades END
                    THEN 'daily_cap'
                WHEN c.cred_id IS NULL THEN 'exchange_not_connected'
                WHEN NOT c.cred_valid THEN 'credentials_invalid'
                WHEN c.exchange_symbol IS NULL THEN 'symbol_not_listed'
            END AS skip
            FROM candidates c, params p
        ), reserved AS (
            -- The daily cap, race-free: one guarded upsert per user takes a slot (a concurrent signal waits for
            -- the row lock and re-checks the cap on the committed count).
            INSERT INTO daily_trade_counts AS t (user_id, day, trades, cap)
            SELECT DISTINCT ON (d.user_id) d.user_id, (now() AT TIME ZONE 'UTC')::date, d.trades_today + 1,
                   CASE WHEN d.subscription_tier = 'free' THEN LEAST(d.max_daily_trades, 5) ELSE d.max_daily_trades END
            FROM decided d WHERE d.skip IS NULL
            ORDER BY d.user_id   -- one lock order for every fan-out: no deadlock between concurrent signals
            ON CONFLICT (user_id, day) DO UPDATE SET trades = t.trades + 1, cap = EXCLUDED.cap WHERE t.trades < EXCLUDED.cap
            RETURNING user_id
        ), verdict AS (
            SELECT d.user_id, d.exchange, CASE WHEN d.skip IS NULL AND r.user_id IS NULL THEN 'daily_cap' ELSE d.skip END AS reason
            FROM decided d LEFT JOIN reserved r ON r.user_id = d.user_id
        ), fanout AS (
            INSERT INTO signal_fanouts (signal_id, user_ids, exchanges)
            SELECT p.signal_uuid, array_agg(d.user_id), array_agg(d.exchange)
            FROM verdict d, params p WHERE d.reason IS NULL
            GROUP BY p.signal_uuid
            RETURNING cardinality(user_ids) AS pairs
        ), skips AS (
            INSERT INTO signal_skips (signal_id, user_id, exchange, reason, message)
            SELECT p.signal_uuid, d.user_id, d.exchange, d.reason, CASE d.reason
                WHEN 'kill_switch' THEN 'Signal skipped: trading is halted (kill switch)'
                WHEN 'trading_disabled' THEN 'Signal skipped: trading disabled'
                WHEN 'below_confidence' THEN 'Signal skipped: below confidence threshold'
                WHEN 'no_exchange_selected' THEN 'Signal skipped: no exchange selected in the trading configuration'
                WHEN 'daily_cap' THEN 'Signal skipped: daily trade limit reached'
                WHEN 'exchange_not_connected' THEN 'Signal skipped: exchange not connected'
                WHEN 'credentials_invalid' THEN 'Signal skipped: exchange credentials invalid'
                ELSE 'Signal skipped: symbol not listed on this exchange' END
            FROM verdict d, params p WHERE d.reason IS NOT NULL
        )
        SELECT ins.id, ins.received_at, COALESCE((SELECT pairs FROM fanout), 0) AS executions,
               (SELECT count(*) FROM verdict WHERE reason IS NOT NULL)::int AS skipped,
               COALESCE((SELECT halted FROM params), false) AS halted,
               (SELECT last_used_at IS NULL OR last_used_at < now() - interval '60 seconds' FROM key) AS touch_due
        FROM ins
        """

    /// The key's last-used time, written at most about once a minute (when `receive` says `touch_due`): an UPDATE
    /// inside the hot statement cost every request ~8 % of its database CPU for a write made once a minute.
    static let touchKey = """
        UPDATE webhook_keys SET last_used_at = now()
        WHERE key_hash = $1::bytea AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
        """
}

extension Queries {
    /// HOLD signals received together (`SignalWebhook.receiveTogether`): `receiveHold` for every member of the
    /// group (`$1`: a JSON array of their fields) in one statement. Unsigned requests only, so a key that requires
    /// signatures stores nothing here. Returns the stored ones; the others are received alone.
    static let receiveHolds = """
        WITH grouped AS (
            SELECT * FROM jsonb_to_recordset($1::jsonb) AS g(signal_id text, "timestamp" timestamptz, symbol text, action int,
                confidence numeric, model_version text, source text, features_snapshot jsonb, key_hash text, payload_hash text)
        ), ins AS (
            INSERT INTO signals (signal_id, timestamp, symbol, action, confidence, model_version, source, features_snapshot,
                                 payload_hash, webhook_key_id)
            SELECT g.signal_id, g."timestamp", g.symbol, g.action, g.confidence, g.model_version, g.source, g.features_snapshot,
                   decode(g.payload_hash, 'hex'), k.id
            FROM grouped g
            JOIN webhook_keys k ON k.key_hash = decode(g.key_hash, 'hex') AND k.revoked_at IS NULL AND NOT k.require_signature
            WHERE EXISTS (SELECT 1 FROM exchange_symbols WHERE symbol = g.symbol AND is_enabled)
            ON CONFLICT (signal_id) DO NOTHING
            RETURNING signal_id, received_at, webhook_key_id
        )
        SELECT ins.signal_id, ins.received_at,
               (k.last_used_at IS NULL OR k.last_used_at < now() - interval '60 seconds') AS touch_due
        FROM ins JOIN webhook_keys k ON k.id = ins.webhook_key_id
        """
}
