"""Building the per-day download rollup (`models/rollup.py`) from the audit trail.

Off the request path: celery-beat builds each closed day (`access.tasks.roll_up_downloads`,
hourly, a no-op once done) and the dashboard builds a day it finds missing, once. A day is
*closed* SETTLE after its UTC midnight: an event's `created_at` is taken before its transaction
commits, so a download that began at 23:59:59 may commit a moment later; after SETTLE no more
events can arrive for that day and its counts are final. Building is an upsert of numbers
computed from immutable events, so re-running it (or two builders at once) gives the same rows.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, Count, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accessgate.audit.actions import AuditAction
from accessgate.audit.models import AuditEvent

from ..models import DownloadDay, DownloadDayBuilt, DownloadUserDay

DOWNLOAD_ACTIONS = [AuditAction.DOWNLOAD_URL_ISSUED, AuditAction.DOWNLOAD_MANIFEST_ISSUED]
SETTLE = timedelta(minutes=15)
ROLLUP_DAYS = 35  # what the nightly build keeps complete (the dashboard shows 14)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def first_open_day(now: datetime) -> date:
    """The oldest UTC day that may still receive events; every day before it is closed."""
    return (now - SETTLE).astimezone(UTC).date()


def download_events(since: datetime, until: datetime | None = None, *, models: list[str] | None = None):
    """Download events in [since, until), answered from the (action, created_at) index."""
    events = AuditEvent.objects.filter(action__in=DOWNLOAD_ACTIONS, created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if models is not None:
        events = events.filter(details__model__in=models)
    return events


def files_and_bytes(events: QuerySet, *group: str) -> QuerySet:
    """Files and bytes per `group` (of "day", "model_key"): a URL is one file of `size` bytes,
    a manifest `file_count` files of `total_bytes`."""
    return (
        events.annotate(
            day=TruncDate("created_at", tzinfo=UTC),
            model_key=KeyTextTransform("model", "details"),
            file_n=Coalesce(Cast(KeyTextTransform("file_count", "details"), BigIntegerField()), 1),
            size=Coalesce(
                Cast(KeyTextTransform("size", "details"), BigIntegerField()),
                Cast(KeyTextTransform("total_bytes", "details"), BigIntegerField()),
                0,
            ),
        )
        .values(*group)
        .annotate(files=Sum("file_n"), bytes=Sum("size"), events=Count("id"))
        .order_by(*group)
    )


def _upsert(model, rows: list, unique: list[str]) -> None:
    fields = ["files", "bytes", "events"]
    model.objects.bulk_create(rows, update_conflicts=True, unique_fields=unique, update_fields=fields, batch_size=2000)


def download_days_build(*, days: Iterable[date], now: datetime | None = None) -> int:
    """(Re)build the rollup of these closed days, per model and per researcher, from one
    aggregate over their range; returns how many (day, model) rows it wrote. Idempotent; a day
    that is not closed yet is refused."""
    days = sorted(set(days))
    if not days:
        return 0
    now = now or timezone.now()
    if days[-1] >= first_open_day(now):
        raise ValueError(f"{days[-1]} is not closed yet; its downloads are read live.")
    wanted = set(days)
    events = download_events(day_start(days[0]), day_start(days[-1] + timedelta(days=1)))
    per_model: defaultdict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_user: defaultdict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in files_and_bytes(events, "day", "model_key", "actor_id"):
        if r["day"] not in wanted:
            continue
        for totals in (per_model[(r["day"], r["model_key"] or "")], per_user[(r["day"], r["actor_id"])]):
            totals[0], totals[1], totals[2] = totals[0] + r["files"], totals[1] + r["bytes"], totals[2] + r["events"]
    with transaction.atomic():
        _upsert(
            DownloadDay,
            [DownloadDay(day=d, model_name=m, files=f, bytes=b, events=n) for (d, m), (f, b, n) in per_model.items()],
            ["day", "model_name"],
        )
        _upsert(
            DownloadUserDay,
            [
                DownloadUserDay(day=d, actor_id=a, files=f, bytes=b, events=n)
                for (d, a), (f, b, n) in per_user.items()
                if a is not None
            ],
            ["actor", "day"],
        )
        DownloadDayBuilt.objects.bulk_create(
            [DownloadDayBuilt(day=day, built_at=now) for day in days],
            update_conflicts=True,
            unique_fields=["day"],
            update_fields=["built_at"],
        )
    return len(per_model)


def live_from(first: date, now: datetime) -> date:
    """Where a reader of [first, today] switches from the rollup to the live events: the first
    day of the window not built yet (a researcher's page reads a missed day live rather than
    build every user's rollup on their request)."""
    open_from = first_open_day(now)
    missing = download_days_missing(first, open_from - timedelta(days=1)) if open_from > first else []
    return min([*missing, open_from])


def download_days_missing(first: date, last: date) -> list[date]:
    """The days in [first, last] whose rollup is not built."""
    built = set(DownloadDayBuilt.objects.filter(day__gte=first, day__lte=last).values_list("day", flat=True))
    return [first + timedelta(days=i) for i in range((last - first).days + 1) if first + timedelta(days=i) not in built]


def download_rollup_build_missing(*, days: int = ROLLUP_DAYS, now: datetime | None = None) -> int:
    """Build every closed day of the last `days` that is still missing (celery-beat); returns
    how many days it built."""
    now = now or timezone.now()
    last = first_open_day(now) - timedelta(days=1)
    missing = download_days_missing(last - timedelta(days=days - 1), last)
    download_days_build(days=missing, now=now)
    return len(missing)
