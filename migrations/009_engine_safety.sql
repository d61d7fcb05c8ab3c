-- 009: found in review of the engine.
-- When an execution last entered `unknown`: the resend grace counts from here (a retried POST can carry a
-- timestamp later than the write-ahead), reset on every entry.
ALTER TABLE executions ADD COLUMN unknown_since TIMESTAMPTZ;
-- Exchange symbols are up to 30 characters (exchange_symbols.exchange_symbol); 20 could abort a whole fan-out.
ALTER TABLE executions ALTER COLUMN symbol TYPE VARCHAR(30);
