"""The chainer: links committed audit events into the hash chain, in batches.

Requests only INSERT their event (in their own transaction, invariant 1); nothing on the
request path locks a shared row. The chainer takes the chain head's row lock (only chainers
ever take it, so two chainers simply wait for each other), reads the committed events that
have no `seq` yet in insertion order, gives each the next `seq`, its `prev_hash` and `hash`,
fills those fields (and the export line) with one UPDATE and moves the head, all in one
transaction. So the chain has one order, no gaps and no forks, whatever commits when: an
event still in flight is simply linked by a later batch. On PostgreSQL all of that is one
statement (`audit_link_pending`, migration 0015); elsewhere Python does it by chain.py's rule.

Who runs it (docs/audit.md, "The audit chainer"):
- `manage.py audit_chainer`, a dedicated process, in production (lag: at most one idle poll,
  50 ms, plus the batch);
- `transaction.on_commit` after each recording transaction when
  ACCESSGATE_AUDIT_CHAIN_ON_COMMIT is on (the default with Celery eager: the demo, tests);
- the beat task `audit.tasks.chain_pending` as a backstop if the process is down.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .chain import GENESIS, chain_hash, event_payload, export_line
from .models import AuditEvent, ChainHead

BATCH = 5000
PAYLOAD_FIELDS = (
    "id", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details",
)  # fmt: skip


@dataclass(frozen=True)
class Chained:
    count: int
    last_seq: int
    created: list[datetime] = field(default_factory=list)  # of the events linked, for lag measures


class _Row:
    __slots__ = ("seq",) + PAYLOAD_FIELDS
    seq: int
    id: int
    created_at: datetime

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(PAYLOAD_FIELDS, values, strict=True):
            setattr(self, name, value)


def pending() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(seq__isnull=True)


def pending_count() -> int:
    return pending().count()


def oldest_pending() -> datetime | None:
    oldest: datetime | None = pending().order_by("id").values_list("created_at", flat=True).first()
    return oldest


def _fill(updates: list[tuple[int, int, str, str, str]]) -> None:
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE audit_auditevent SET seq = %s, prev_hash = %s, hash = %s, line = %s WHERE id = %s AND seq IS NULL",
            [(seq, prev, digest, line, pk) for pk, seq, prev, digest, line in updates],
        )
        if cursor.rowcount != len(updates):  # cannot happen while only chainers fill these fields
            raise RuntimeError(f"chainer: filled {cursor.rowcount} of {len(updates)} events; rolled back")


def chain_pending(*, batch: int = BATCH) -> Chained:
    """Link up to `batch` committed, unlinked events; returns how many and the new head."""
    if connection.vendor == "postgresql":
        return _chain_in_database(batch)
    return _chain_in_python(batch)


def _chain_in_database(batch: int) -> Chained:
    """One statement, one round trip: PostgreSQL reads, hashes and fills the batch itself
    (`audit_link_pending`, migration 0015), under the head's row lock. No rows travel to
    Python and back, so the chainer keeps up on a loaded machine, where every round trip
    waits for a CPU; an idle poll is one read-only probe of the partial index."""
    # Autocommit: the statement is its own transaction (no BEGIN/COMMIT round trips).
    with connection.cursor() as cursor:
        cursor.execute("SELECT linked, last_seq, created FROM audit_link_pending(%s)", [batch])
        count, last_seq, created = cursor.fetchone()
    return Chained(count, last_seq, list(created or ()))


def _chain_in_python(batch: int) -> Chained:
    """The same linking in Python (SQLite, the demo's database), by the rule in chain.py."""
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})[0]
        rows = [_Row(values) for values in pending().order_by("id").values_list(*PAYLOAD_FIELDS)[:batch]]
        if not rows:
            return Chained(0, head.seq)
        seq, prev = head.seq, head.hash
        updates: list[tuple[int, int, str, str, str]] = []
        for row in rows:
            seq += 1
            row.seq = seq
            payload = event_payload(row)
            digest = chain_hash(prev, payload)
            updates.append((row.id, seq, prev, digest, export_line(payload, prev, digest)))
            prev = digest
        _fill(updates)
        ChainHead.objects.filter(id=1).update(seq=seq, hash=prev)
    return Chained(len(rows), seq, [row.created_at for row in rows])


def chain_all() -> int:
    """Link everything committed now (the beat backstop, tests, the on-commit step)."""
    total = 0
    while (done := chain_pending().count) > 0:
        total += done
    return total


def chain_on_commit() -> None:
    """The eager-mode step: link after the recording transaction commits.

    Registered once per outermost transaction by `record()`; a failure here never undoes the
    committed change (the events wait for the next chainer run).
    """
    try:
        chain_all()
    except Exception:  # noqa: BLE001 - logged; the events stay queued for the next run
        import logging

        logging.getLogger(__name__).exception("audit chainer: on-commit step failed; events stay queued")


def run(
    *,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[Chained], None] | None = None,
    idle_seconds: float = 0.05,
    batch: int = BATCH,
) -> None:
    """The loop of `manage.py audit_chainer`: link batches; poll every `idle_seconds` when idle.

    Adaptive: after a batch that linked something it goes again at once (more events have
    usually committed meanwhile, and the batch's own commit paces it); only an empty poll
    sleeps. Polling (a read-only probe of the partial index of unlinked events) rather than
    LISTEN/NOTIFY: NOTIFY takes a database-wide lock at every commit, which is exactly the
    global line on the request path this design removes.
    """
    while not should_stop():
        result = chain_pending(batch=batch)
        if result.count and on_batch:
            on_batch(result)
        if not result.count:
            time.sleep(idle_seconds)


def lag_seconds() -> float | None:
    """Age of the oldest event not yet linked (None when everything is chained)."""
    oldest = oldest_pending()
    return None if oldest is None else max(0.0, (timezone.now() - oldest).total_seconds())
