-- The engine working one signal's fan-out claims its executions one at a time, oldest due first. Without an
-- index that serves "this signal's due executions in order", every claim read and sorted all of the signal's
-- rows (EXPLAIN: a sequential scan and a sort of 2,000 rows, ≈ 1.3 ms, for each of the 2,000 claims of a
-- 1,000-user fan-out: quadratic, and about half of PostgreSQL's CPU during it). With this index a claim reads
-- the first due row of the signal and stops. Partial: only rows still waiting to be placed or resolved.
CREATE INDEX executions_signal_due ON executions (signal_id, next_attempt_at, created_at)
    WHERE status IN ('pending', 'unknown');
