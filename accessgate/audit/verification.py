"""Walk the chain and name the first event that breaks it. Streams: memory stays flat.

Only linked events are checked (the chainer links committed events within moments); the
result also says how many are not linked yet and how old the oldest is.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Max, Min

from accessgate.core.jobs import job_done, job_start, job_update
from accessgate.core.tasks import queue_after_commit

from . import chainer
from .actions import AuditAction
from .chain import GENESIS, chain_hash, event_payload, export_line
from .context import RequestMeta
from .models import AuditEvent, ChainHead, VerificationRun
from .services import chain_head, record
from .verification_sql import first_break

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

BATCH = 5000


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    broken_seq: int | None = None
    reason: str = ""
    pending: int = 0  # events committed but not yet linked by the chainer
    oldest_pending_seconds: float | None = None

    def summary(self) -> str:
        if self.ok:
            text = (
                f"The chain is whole: {self.checked} events, #{self.first_seq} to #{self.last_seq}."
                if self.checked
                else "No events in that range."
            )
        else:
            text = f"The chain is broken at #{self.broken_seq}: {self.reason}"
        return text + pending_note(self.pending, self.oldest_pending_seconds)


def pending_note(count: int, oldest_seconds: float | None) -> str:
    if not count:
        return ""
    return f" {count} event(s) not yet chained; the oldest is {oldest_seconds:.1f} s old."


class EventRow:
    """Just the attributes `event_payload` reads, without building model instances."""

    __slots__ = (
        "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
        "target_label", "ip", "user_agent", "details", "prev_hash", "hash", "line",
    )  # fmt: skip
    seq: int
    created_at: datetime
    prev_hash: str
    hash: str
    line: str

    def __init__(self, values: tuple[Any, ...]) -> None:
        for name, value in zip(self.__slots__, values, strict=True):
            setattr(self, name, value)


def verify_chain(
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
) -> VerificationResult:
    """Check the linked events (all, or seq `from_seq`..`to_seq`) and name the first break.

    On PostgreSQL the database checks `jobs` seq ranges in parallel (verification_sql.py);
    elsewhere the same rules run here in Python."""
    pending, oldest = chainer.pending_count(), chainer.lag_seconds()
    start = from_seq if from_seq and from_seq > 1 else 1
    if start > 1:
        # Anchor on the event just before the range (its own integrity is outside the range).
        anchor = AuditEvent.objects.filter(seq=start - 1).values_list("hash", flat=True).first()
        if anchor is None:
            result = VerificationResult(False, 0, None, None, start - 1, "the event before the range is missing")
            return replace(result, pending=pending, oldest_pending_seconds=oldest)
    else:
        anchor = GENESIS
    if connection.vendor == "postgresql":
        result = _in_database(start, to_seq, anchor, progress, jobs or os.cpu_count() or 1)
    else:
        result = _walk(start, to_seq, anchor, progress)
    if result.ok and to_seq is None:
        result = _against_head(result, start)
    return replace(result, pending=pending, oldest_pending_seconds=oldest)


def _against_head(result: VerificationResult, start: int) -> VerificationResult:
    head = ChainHead.objects.filter(id=1).first()
    head_seq = head.seq if head else 0
    if head_seq != (result.last_seq or start - 1):
        return replace(
            result,
            ok=False,
            broken_seq=(result.last_seq or 0) + 1,
            reason=f"missing: the chain head says the last event is #{head_seq}",
        )
    return result


def _in_database(
    start: int, to_seq: int | None, anchor: str, progress: Callable[[int], None] | None, jobs: int
) -> VerificationResult:
    events = AuditEvent.objects.filter(seq__gte=start)
    if to_seq is not None:
        events = events.filter(seq__lte=to_seq)
    # Only MIN and MAX: two index probes. (A COUNT here scanned the whole table, a second
    # or more at 1M events.) A whole chain has no gaps, so it holds last - start + 1 events.
    bounds = events.aggregate(first=Min("seq"), last=Max("seq"))
    if bounds["last"] is None:
        return VerificationResult(True, 0, None, None)
    found = first_break(start, bounds["last"], anchor, jobs=jobs, progress=progress)
    if found is None:
        return VerificationResult(True, bounds["last"] - start + 1, start, bounds["last"])
    broken, reason = found
    checked = max(0, broken - start)
    return VerificationResult(
        False, checked, start if checked else None, broken - 1 if checked else None, broken, reason
    )


def _walk(start: int, to_seq: int | None, anchor: str, progress: Callable[[int], None] | None) -> VerificationResult:
    events = AuditEvent.objects.filter(seq__gte=start).order_by("seq")
    if to_seq is not None:
        events = events.filter(seq__lte=to_seq)
    expected_prev, expected_seq, checked, first, last = anchor, start, 0, None, None
    for values in events.values_list(*EventRow.__slots__).iterator(chunk_size=BATCH):
        row = EventRow(values)
        if row.seq != expected_seq:
            return VerificationResult(
                False, checked, first, last, expected_seq, f"missing (the next event is #{row.seq})"
            )
        if row.prev_hash != expected_prev:
            return VerificationResult(
                False, checked, first, last, row.seq, "its prev_hash is not the previous event's hash"
            )
        payload = event_payload(row)
        digest = chain_hash(row.prev_hash, payload)
        if digest != row.hash or row.line != export_line(payload, row.prev_hash, digest):
            return VerificationResult(
                False, checked, first, last, row.seq, "its content does not match its hash (changed after writing)"
            )
        first = row.seq if first is None else first
        last, expected_prev, expected_seq = row.seq, row.hash, row.seq + 1
        checked += 1
        if progress and checked % BATCH == 0:
            progress(checked)
    return VerificationResult(True, checked, first, last)


# --- services: a check requested by an auditor, run by a task ------------------------------


@transaction.atomic
def audit_verification_request(*, actor: "_User", meta: RequestMeta | None = None) -> VerificationRun:
    run = VerificationRun.objects.create(requested_by=actor)
    queue_after_commit(
        "accessgate.audit.tasks.run_verification", run.pk, job=(VerificationRun, run.pk), what="the check"
    )
    return run


def audit_verification_run(run: VerificationRun) -> VerificationRun:
    job_start(run, total=chain_head()[0])  # the head's seq: a COUNT would scan the whole trail
    result = verify_chain(progress=lambda n: job_update(run, checked=n))
    with transaction.atomic():
        job_done(run, ok=result.ok, checked=result.checked, broken_seq=result.broken_seq, summary=result.summary())
        record(
            actor=run.requested_by,
            action=AuditAction.AUDIT_CHAIN_VERIFIED,
            target=run,
            ok=result.ok,
            checked=result.checked,
            last_seq=result.last_seq,
            broken_seq=result.broken_seq,
        )
    return run
