-- Fewer index entries and row locks written per execution state change (each status change is a non-HOT update,
-- so it adds an entry to every index of executions; measured in docs/benchmarks.md).
--
-- 1. request_id always equals client_order_id: the webhook writes both from the execution's id (migration 013
--    derives them the same way). Its own unique index was a second copy of client_order_id's; the CHECK keeps
--    the seed's guarantee (request_id unique) through client_order_id's unique index. Rows written by hand
--    before this migration (none by the functions) are aligned first.
UPDATE executions SET request_id = client_order_id WHERE request_id IS DISTINCT FROM client_order_id;
ALTER TABLE executions ADD CONSTRAINT executions_request_id_is_client_order_id CHECK (request_id = client_order_id);
ALTER TABLE executions DROP CONSTRAINT executions_request_id_key;

-- 2. The credential audit log is evidence (SEC-06, append-only): it must outlive the user row it names, not
--    block that row's deletion, and not take a lock on it for every trade (each foreign-key check locked the
--    user's row; two exchanges finishing at once shared that lock through a multixact).
ALTER TABLE credential_audit_log DROP CONSTRAINT credential_audit_log_user_id_fkey;
