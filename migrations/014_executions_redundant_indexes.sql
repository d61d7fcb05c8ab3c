-- Two indexes on executions duplicated others, and every execution row (2,000 for one signal fanned out to 1,000
-- users × 2 exchanges) and every non-HOT update of one (each engine transition changes status/updated_at, which
-- partial indexes name) paid for them:
--   idx_executions_user (user_id, created_at DESC) = executions_user_day (user_id, created_at), read backwards;
--   idx_executions_signal (signal_id) = the leading column of executions_once (signal_id, user_id, exchange).
-- Every query that used them gets the same plan shape from the index kept (a B-tree serves both directions and
-- any leading-column prefix).
DROP INDEX IF EXISTS idx_executions_user;
DROP INDEX IF EXISTS idx_executions_signal;
