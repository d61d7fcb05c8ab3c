-- 011: the history (issue "History", GET /v1/history and /v1/history.csv).
-- The divergences of a page of executions are read by execution id; only reconciliation's own lookups
-- (kind, exchange, client order id) had an index.
CREATE INDEX reconciliation_divergences_execution ON reconciliation_divergences (execution_id) WHERE execution_id IS NOT NULL;
-- An admin's scope=all reads everyone's executions newest first by (created_at, id), the keyset of every page:
-- without this, each page sorted the whole table.
CREATE INDEX executions_created ON executions (created_at DESC, id DESC);
