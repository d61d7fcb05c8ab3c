-- A signal's fan-out decision, stored by the webhook's transaction and expanded into executions right after its
-- response (docs/architecture.md §2, "The decision and its expansion").
--
-- The webhook's one transaction stores the signal, decides every (user, exchange) pair — eligible, or skipped with
-- its reason — and reserves the eligible users' daily-cap slots. Writing the eligible pairs as 2,000 indexed,
-- foreign-key-checked execution rows (plus 2,000 creation events) inside that transaction cost ≈ 55 ms of its
-- ≈ 68 ms for one signal to 1,000 users × 2 exchanges (EXPLAIN ANALYZE, docs/benchmarks.md); the decision as
-- one row costs ≈ 1 ms. The row is deleted by the statement that turns it into executions (the same transaction,
-- so it is either still here or its executions are), which the webhook's process runs right after the answer and
-- every sweep runs for any row a crashed process left. `executions_once (signal_id, user_id, exchange)` keeps
-- the expansion exactly-once even if two ever raced.
CREATE TABLE signal_fanouts (
    signal_id   UUID PRIMARY KEY REFERENCES signals(id) ON DELETE CASCADE,
    -- Parallel arrays: pair i is (user_ids[i], exchanges[i]).
    user_ids    UUID[] NOT NULL,
    exchanges   TEXT[] NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT signal_fanouts_pairs CHECK (cardinality(user_ids) = cardinality(exchanges) AND cardinality(user_ids) > 0)
);
-- Random UUIDs do not compress: store the arrays out of line without trying (a 1,000-user decision is ~50 kB).
ALTER TABLE signal_fanouts ALTER COLUMN user_ids SET STORAGE EXTERNAL, ALTER COLUMN exchanges SET STORAGE EXTERNAL;
-- The sweep takes the oldest first.
CREATE INDEX signal_fanouts_created ON signal_fanouts (created_at);
