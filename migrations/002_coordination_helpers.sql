-- 002: helpers for coordinating functions through rows.

-- Advisory-lock keys: the first 64 bits of SHA-256('signalbridge:' || name), big-endian, as a signed bigint.
-- Shared/Database/AdvisoryLock.swift computes the same value (tested); never use hashtext().
CREATE FUNCTION signalbridge_lock_key(name text) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT ('x' || left(encode(sha256(convert_to('signalbridge:' || name, 'UTF8')), 'hex'), 16))::bit(64)::bigint $$;

-- The functions connect as signalbridge_app: data access only, no DDL. Migrations run as the owner.
-- Tables that must stay append-only revoke UPDATE/DELETE from it in their own migration.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signalbridge_app') THEN
        RAISE EXCEPTION 'role signalbridge_app does not exist: create it first (docs/runbook.md, "Database roles")';
    END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO signalbridge_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO signalbridge_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO signalbridge_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO signalbridge_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO signalbridge_app;
GRANT EXECUTE ON FUNCTION signalbridge_lock_key(text) TO signalbridge_app;
