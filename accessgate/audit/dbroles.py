"""Least privilege on PostgreSQL: an owner role for migrations, a runtime role for the portal.

The runtime role reads and writes the application's tables but may only SELECT and INSERT
audit events: it cannot UPDATE, DELETE or TRUNCATE them, and, not owning the table, cannot
ALTER it, DISABLE or DROP its triggers. `manage.py db_roles_sql` prints the SQL below.
"""

from django.db import connection

AUDIT_TABLES = ("audit_auditevent",)


def quote(name: str) -> str:
    """A PostgreSQL identifier, always quoted."""
    if not name or "\x00" in name or "$" in name:
        raise ValueError(f"{name!r}: a role, schema or database name here cannot be empty or hold a NUL byte or '$'.")
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def roles_sql(*, owner: str, runtime: str, database: str, schema: str = "public") -> str:
    """Idempotent SQL: run it as a superuser before the first `migrate` and again after each."""
    o, r, d, s = quote(owner), quote(runtime), quote(database), quote(schema)
    audit = ", ".join(f"{s}.{quote(t)}" for t in AUDIT_TABLES)
    return f"""\
-- accessgate: least-privilege roles for database {d} (schema {s}).
-- Run as a superuser connected to {d}, before the first migrate and again after each
-- migrate (it is idempotent). Set the passwords yourself: ALTER ROLE … PASSWORD '…'.

-- 1. The roles. The owner runs migrations; the runtime role runs the portal and workers.
DO $$ BEGIN CREATE ROLE {o} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object THEN NULL; END $$;

-- 2. The owner holds the database, the schema and every table and sequence in it.
ALTER DATABASE {d} OWNER TO {o};
ALTER SCHEMA {s} OWNER TO {o};
DO $$ DECLARE item record; BEGIN
    FOR item IN SELECT c.oid::regclass AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = {literal(schema)} AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
                AND NOT EXISTS (SELECT 1 FROM pg_depend dep  -- identity sequences follow their table
                                WHERE dep.objid = c.oid AND dep.classid = 'pg_class'::regclass
                                AND dep.deptype IN ('a', 'i')) LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO %I', item.name, {literal(owner)});
    END LOOP;
    IF to_regprocedure({literal(s + ".audit_refuse_change()")}) IS NOT NULL THEN
        EXECUTE format('ALTER FUNCTION %I.audit_refuse_change() OWNER TO %I', {literal(schema)}, {literal(owner)});
    END IF;
    -- The chainer's functions (migration 0015) run with the caller's rights; owning them
    -- keeps anyone but the owner from replacing them.
    IF to_regprocedure({literal(s + ".audit_canonical_json(jsonb)")}) IS NOT NULL THEN
        EXECUTE format('ALTER FUNCTION %I.audit_canonical_json(jsonb) OWNER TO %I',
                       {literal(schema)}, {literal(owner)});
        EXECUTE format('ALTER FUNCTION %I.audit_link_pending(integer) OWNER TO %I',
                       {literal(schema)}, {literal(owner)});
    END IF;
END $$;

-- 3. The runtime role: connect, use the schema (not create in it), read and write the tables.
GRANT CONNECT, TEMPORARY ON DATABASE {d} TO {r};
REVOKE CREATE ON SCHEMA {s} FROM PUBLIC;
GRANT USAGE ON SCHEMA {s} TO {r};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {s} TO {r};

-- 4. Tables and sequences that later migrations create (as the owner) get the same grants.
ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r};
ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {r};

-- 5. The audit trail: read and append only (no UPDATE but of the chain fields, no DELETE,
--    TRUNCATE; not the owner, so no ALTER TABLE, DISABLE TRIGGER or DROP TRIGGER). Needs
--    the tables: after migrate.
DO $$ BEGIN
    IF to_regclass({literal(s + ".audit_auditevent")}) IS NOT NULL THEN
        EXECUTE format('REVOKE ALL ON %s FROM %I', {literal(audit)}, {literal(runtime)});
        EXECUTE format('GRANT SELECT, INSERT ON %s TO %I', {literal(audit)}, {literal(runtime)});
        -- The chainer fills the chain fields once (the trigger refuses every other UPDATE).
        EXECUTE format('GRANT UPDATE (seq, prev_hash, hash, line) ON %s TO %I', {literal(audit)}, {literal(runtime)});
    ELSE
        RAISE NOTICE 'audit tables not created yet: run migrate as the owner, then this script again';
    END IF;
END $$;
"""  # noqa: S608 (every name goes through quote() or literal())


def current_database() -> str:
    name: str = connection.settings_dict["NAME"]
    return name
