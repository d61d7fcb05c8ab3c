-- Leave 20 % of each executions page free, so an update that changes no indexed column (the engine's claim:
-- lease and attempt count only) can stay on its page as a HOT update, without a new entry in each of the
-- table's indexes. Every status change still rewrites index entries (status and updated_at appear in partial
-- indexes). Applies to pages written from now on; existing rows keep their pages until rewritten.
ALTER TABLE executions SET (fillfactor = 80);
