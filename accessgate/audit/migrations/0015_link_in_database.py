"""The chainer links events inside PostgreSQL: one statement per batch (see audit/chainer.py).

`audit_canonical_json(jsonb)` writes a JSON value the way `chain.canonical_json` does (keys
sorted by code point at every level, no whitespace, non-ASCII kept, PostgreSQL's string
escaping being Python's `ensure_ascii=False` escaping); `audit_link_pending(n)` links up to n
committed, unlinked events under the chain head's row lock and returns how many, the new head
and the events' `created_at`. Both run with the caller's privileges (no SECURITY DEFINER):
the runtime role's column grant and the append-only trigger still decide what it may fill.

`hash` loses its unique index (and the `varchar_pattern_ops` twin Django adds): nothing looks
events up by hash, and every index costs each append and each chain fill an entry.
"""

from django.db import migrations, models

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_canonical_json(value jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    CASE jsonb_typeof(value)
    WHEN 'object' THEN
        RETURN '{' || COALESCE((
            SELECT string_agg(to_json(k)::text || ':' || CASE WHEN jsonb_typeof(v) IN ('object', 'array')
                              THEN audit_canonical_json(v) ELSE v::text END, ',' ORDER BY k COLLATE "C")
            FROM jsonb_each(value) AS e(k, v)), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || COALESCE((
            SELECT string_agg(CASE WHEN jsonb_typeof(v) IN ('object', 'array')
                              THEN audit_canonical_json(v) ELSE v::text END, ',' ORDER BY i)
            FROM jsonb_array_elements(value) WITH ORDINALITY AS e(v, i)), '') || ']';
    ELSE
        RETURN value::text;
    END CASE;
END $$;

CREATE OR REPLACE FUNCTION audit_link_pending(max_events integer)
RETURNS TABLE (linked integer, last_seq bigint, created timestamptz[])
LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    e record;
    front text;
    ip_part text;
    back text;
    digest text;
    ids bigint[] := '{}';
    seqs bigint[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
    lines text[] := '{}';
    times timestamptz[] := '{}';
    filled integer;
BEGIN
    -- Idle polls stay read-only: no row lock, no transaction id, no WAL flush.
    IF NOT EXISTS (SELECT 1 FROM audit_auditevent WHERE seq IS NULL) THEN
        RETURN QUERY SELECT 0, COALESCE((SELECT h.seq::bigint FROM audit_chainhead h WHERE h.id = 1), 0::bigint),
                            '{}'::timestamptz[];
        RETURN;
    END IF;
    INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
    SELECT h.seq, h.hash INTO head_seq, head_hash FROM audit_chainhead h WHERE h.id = 1 FOR UPDATE;
    FOR e IN
        SELECT a.id, a.created_at, a.actor_id, a.actor_label, a.action, a.target_type, a.target_id,
               a.target_label, a.ip, a.user_agent, a.details
        FROM audit_auditevent a WHERE a.seq IS NULL ORDER BY a.id LIMIT max_events
    LOOP
        head_seq := head_seq + 1;
        -- chain.canonical_json(payload) in three parts, so the export line (the same keys plus
        -- "hash" after "details" and "prev_hash" after "ip") is built from the same text.
        front := '{"action":' || to_json(e.action)::text
            || ',"actor_id":' || COALESCE(e.actor_id::text, 'null')
            || ',"actor_label":' || to_json(e.actor_label)::text
            || ',"created_at":"' || to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
            || '","details":' || audit_canonical_json(e.details);
        ip_part := ',"ip":' || COALESCE(to_json(host(e.ip))::text, 'null');
        back := ',"seq":' || head_seq
            || ',"target_id":' || to_json(e.target_id)::text
            || ',"target_label":' || to_json(e.target_label)::text
            || ',"target_type":' || to_json(e.target_type)::text
            || ',"user_agent":' || to_json(e.user_agent)::text || '}';
        digest := encode(sha256(convert_to(head_hash || front || ip_part || back, 'UTF8')), 'hex');
        ids := ids || e.id;
        seqs := seqs || head_seq;
        prevs := prevs || head_hash;
        hashes := hashes || digest;
        lines := lines || (front || ',"hash":"' || digest || '"' || ip_part || ',"prev_hash":"' || head_hash || '"' || back);
        times := times || e.created_at;
        head_hash := digest;
    END LOOP;
    IF cardinality(ids) = 0 THEN  -- the pending ones were not committed yet
        RETURN QUERY SELECT 0, head_seq, '{}'::timestamptz[];
        RETURN;
    END IF;
    UPDATE audit_auditevent AS a SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash, line = v.line
    FROM unnest(ids, seqs, prevs, hashes, lines) AS v(id, seq, prev_hash, hash, line)
    WHERE a.id = v.id AND a.seq IS NULL;
    GET DIAGNOSTICS filled = ROW_COUNT;
    IF filled <> cardinality(ids) THEN  -- cannot happen while only chainers fill these fields
        RAISE EXCEPTION 'audit chainer: filled % of % events; rolled back', filled, cardinality(ids);
    END IF;
    UPDATE audit_chainhead SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN QUERY SELECT cardinality(ids), head_seq, times;
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_link_pending(integer);
DROP FUNCTION IF EXISTS audit_canonical_json(jsonb);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0014_download_rollup")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.RunPython(create, drop),
    ]
