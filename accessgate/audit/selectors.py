from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet

from . import chainer
from .models import AuditEvent, AuditExport, VerificationRun

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

PAGE_SIZE = 50


def event_page(
    events: QuerySet[AuditEvent], *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], int | None, int | None]:
    """Keyset pagination on `seq`, newest first. Returns (events, newer_after, older_before).

    Linked events only; `chain_status()` says how many wait for the chainer."""
    events = events.filter(seq__isnull=False)
    if after is not None:
        rows = list(events.filter(seq__gt=after).order_by("seq")[: size + 1])
        has_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_older = events.filter(seq__lt=rows[-1].seq).exists() if rows else False
    else:
        if before is not None:
            events = events.filter(seq__lt=before)
        rows = list(events.order_by("-seq")[: size + 1])
        has_older = len(rows) > size
        rows = rows[:size]
        has_newer = before is not None and bool(rows) and AuditEvent.objects.filter(seq__gt=rows[0].seq).exists()
    newer = rows[0].seq if rows and has_newer else None
    older = rows[-1].seq if rows and has_older else None
    return rows, newer, older


def event_by_seq(seq: int) -> AuditEvent | None:
    return AuditEvent.objects.filter(seq=seq).first()


def recent_exports(limit: int = 20) -> QuerySet[AuditExport]:
    return AuditExport.objects.order_by("-created_at")[:limit]


def recent_verifications(limit: int = 5) -> QuerySet[VerificationRun]:
    return VerificationRun.objects.order_by("-created_at")[:limit]


def filter_events(filters: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Events matching the viewer's and the exports' filters (days are UTC, `until` inclusive)."""
    events = AuditEvent.objects.all()
    if filters.get("since"):
        events = events.filter(created_at__gte=datetime.combine(date.fromisoformat(filters["since"]), time.min, UTC))
    if filters.get("until"):
        end = date.fromisoformat(filters["until"]) + timedelta(days=1)
        events = events.filter(created_at__lt=datetime.combine(end, time.min, UTC))
    if filters.get("actor"):
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("model"):
        model = filters["model"]
        events = events.filter(
            Q(details__model=model)
            | Q(target_type="catalog.model", target_label=model)
            | Q(target_type="catalog.release", target_label__startswith=f"{model}@")
        )
    if filters.get("ip"):
        events = events.filter(ip=filters["ip"])
    if filters.get("reason"):
        events = events.filter(details__reason=filters["reason"])
    if filters.get("target"):
        target_type, _, target_id = filters["target"].partition(":")
        events = events.filter(target_type=target_type, target_id=target_id)
    if filters.get("person"):
        events = events.filter(person_q(filters["person"], filters.get("person_id"), filters.get("person_targets")))
    return events


def person_q(email: str, user_id: int | str | None, targets: dict[str, list[str]] | None) -> Q:
    """Everything about one person: what they did (`actor_id`, or the e-mail snapshot of a
    deleted account) and what was done to what is theirs (the targets their owning apps list).
    Each branch uses an index: the actor's, or (target_type, target_id)."""
    user_id = int(user_id) if user_id not in (None, "") else None
    q = Q(actor_id=user_id) if user_id is not None else Q(actor_label=email)
    if user_id is not None:
        q |= Q(target_type="accounts.user", target_id=str(user_id))
    for target_type, ids in (targets or {}).items():
        if ids:
            q |= Q(target_type=target_type, target_id__in=ids)
    return q


def chain_status() -> dict[str, Any]:
    """Events committed but not yet linked into the chain, and the age of the oldest."""
    return {"pending": chainer.pending_count(), "oldest_seconds": chainer.lag_seconds()}


def latest_event(
    *, actions: Iterable[str], target: Model | None = None, actor: "_User | None" = None, **details: Any
) -> AuditEvent | None:
    """The newest event of one of `actions` (on `target`, by `actor`, with these details)."""
    events = AuditEvent.objects.filter(action__in=[str(a) for a in actions])
    if target is not None:
        events = events.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
    if actor is not None:
        events = events.filter(actor_id=actor.pk)
    for key, value in details.items():
        events = events.filter(**{f"details__{key}": value})
    return events.order_by("-id").first()  # insertion order: the newest may not be chained yet
