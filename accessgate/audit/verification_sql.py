"""The chain check done by PostgreSQL itself, in parallel over `seq` ranges.

Per range, one statement walks the events in `seq` order and returns the first that breaks:
- a gap (`seq` is not the previous event's + 1) → "missing";
- `prev_hash` is not the previous event's `hash` → "prev_hash";
- the stored export line does not hash to `hash` (sha256 of `prev_hash` + the line without
  its `hash` and `prev_hash`, which is exactly the canonical JSON, see `chain.export_line`),
  or the line does not say what the columns say (every field but `details` rebuilt from the
  columns as canonical JSON text and compared byte for byte; `details` compared as JSON)
  → "content does not match its hash".
The ranges share nothing but their borders: each range starts from the event just before it.
The Python walk in verification.py applies the same rules (SQLite, and the reference).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

from django.db import DataError, connection, connections, transaction

RANGE_SQL = """
WITH walk AS (
    SELECT seq, prev_hash, hash, line, details,
           COALESCE(lag(seq) OVER (ORDER BY seq), %(before_seq)s) AS prev_seq,
           COALESCE(lag(hash) OVER (ORDER BY seq), %(anchor)s) AS prev_row_hash,
           -- What the columns say, as canonical JSON text around the details object.
           '{"action":' || to_json(action)::text
             || ',"actor_id":' || COALESCE(actor_id::text, 'null')
             || ',"actor_label":' || to_json(actor_label)::text
             || ',"created_at":"' || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
             || '","details":' AS head,
           ',"hash":"' || hash || '","ip":' || COALESCE(to_json(host(ip))::text, 'null')
             || ',"prev_hash":"' || prev_hash || '","seq":' || seq
             || ',"target_id":' || to_json(target_id)::text
             || ',"target_label":' || to_json(target_label)::text
             || ',"target_type":' || to_json(target_type)::text
             || ',"user_agent":' || to_json(user_agent)::text || '}' AS tail
    FROM audit_auditevent
    WHERE seq BETWEEN %(lo)s - 1 AND %(hi)s
), bytes AS (
    SELECT seq, prev_seq, prev_row_hash, prev_hash, hash, line, details,
           convert_to(line, 'UTF8') AS lb, convert_to(head, 'UTF8') AS hb, convert_to(tail, 'UTF8') AS tb
    FROM walk
    WHERE seq >= %(lo)s
), checked AS (
    -- Byte offsets (bytea), not character counts: each text length() would rescan the UTF-8.
    SELECT seq, prev_seq, prev_row_hash IS NOT DISTINCT FROM prev_hash AS link_ok,
           CASE WHEN line IS NOT NULL
                 AND encode(sha256(convert_to(prev_hash || replace(replace(line,
                     ',"hash":"' || hash || '"', ''), ',"prev_hash":"' || prev_hash || '"', ''), 'UTF8')), 'hex') = hash
                 AND octet_length(lb) > octet_length(hb) + octet_length(tb)
                 AND substring(lb FROM 1 FOR octet_length(hb)) = hb
                 AND substring(lb FROM octet_length(lb) - octet_length(tb) + 1) = tb
           THEN convert_from(substring(lb FROM octet_length(hb) + 1
                                       FOR octet_length(lb) - octet_length(hb) - octet_length(tb)), 'UTF8')::jsonb
                = details
           ELSE false END AS content_ok
    FROM bytes
)
SELECT seq, prev_seq, link_ok, content_ok FROM checked
WHERE seq <> prev_seq + 1 OR NOT link_ok OR NOT content_ok
ORDER BY seq
LIMIT 1
"""

RANGE_SIZE = 250_000  # the largest range; smaller ones when that keeps every connection busy
MIN_RANGE = 10_000  # below this a range costs more in round trips than it saves


def _check_range(lo: int, hi: int, before_seq: int, anchor: str, *, own_connection: bool) -> tuple[int, str] | None:
    """(broken_seq, reason) of the first break in [lo, hi], or None."""
    conn = connections.create_connection("default") if own_connection else connections["default"]
    try:
        with transaction.atomic(using=conn.alias) if not own_connection else nullcontext(), conn.cursor() as cursor:
            cursor.execute(RANGE_SQL, {"lo": lo, "hi": hi, "before_seq": before_seq, "anchor": anchor})
            row = cursor.fetchone()
    except DataError:  # a stored line whose details part is not JSON: forged, hash and all
        return lo, f"an export line in #{lo} to #{hi} is not valid JSON (changed after writing)"
    finally:
        if own_connection:
            conn.close()
    if row is None:
        return None
    seq, prev_seq, link_ok, content_ok = row
    if seq != prev_seq + 1:
        return prev_seq + 1, f"missing (the next event is #{seq})"
    if not link_ok:
        return seq, "its prev_hash is not the previous event's hash"
    return seq, "its content does not match its hash (changed after writing)"


def first_break(
    start: int,
    end: int,
    anchor: str,
    *,
    jobs: int,
    range_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, str] | None:
    """The first (seq, reason) that breaks the chain in [start, end], checking ranges in parallel.

    Inside a transaction (tests, or a caller's atomic block) the ranges run one after the
    other on this connection: other connections could not see its rows."""
    # About four ranges per connection, so they finish together (ten ranges on four
    # connections would leave two of them idle for the last round).
    range_size = range_size or min(RANGE_SIZE, max(MIN_RANGE, -(-(end - start + 1) // (jobs * 4))))
    ranges = []
    lo = start
    while lo <= end:
        hi = min(end, lo + range_size - 1)
        # The first range starts from the anchor; the others from the event before them,
        # which the previous range checks (a missing one shows as a gap here).
        ranges.append((lo, hi, lo - 1 if lo == start else lo - 2, anchor if lo == start else ""))
        lo = hi + 1
    parallel = jobs > 1 and len(ranges) > 1 and not connection.in_atomic_block
    breaks, done = [], 0
    if parallel:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_check_range, *r, own_connection=True) for r in ranges]
            for (lo, hi, _, _), future in zip(ranges, futures, strict=True):
                found = future.result()
                done += hi - lo + 1
                if found:
                    breaks.append(found)
                if progress:
                    progress(done)
    else:
        for lo, hi, before, first_anchor in ranges:
            found = _check_range(lo, hi, before, first_anchor, own_connection=False)
            done += hi - lo + 1
            if progress:
                progress(done)
            if found:
                breaks.append(found)
                break
    return min(breaks) if breaks else None
