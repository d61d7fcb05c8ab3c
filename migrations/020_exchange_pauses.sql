-- An exchange paused for everyone after it said "too much from this address" (429 request weight, 418 ban).
-- Binance's and MEXC's request limits are per IP: after one 429, every other worker and process that keeps
-- calling only burns the window and turns the 429 into a 418 ban for all users (Binance escalates bans from
-- 2 minutes to 3 days). The engine writes the pause (the later end wins) and claims nothing for a paused
-- exchange until it ends; a single account's order-count limit (-1015) pauses only that execution.
CREATE TABLE exchange_pauses (
    exchange     TEXT PRIMARY KEY,
    paused_until TIMESTAMPTZ NOT NULL,
    reason       TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
