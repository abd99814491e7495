"""What the staff dashboard and a researcher's download history read: a fixed number of
aggregate queries each, bounded in time, answered from indexes (requests by `submitted_at` and
`decided_at`, grants by expiry) and, for downloads, from the per-day rollup of closed days
(`download_rollup.py`) plus the open day live from the audit trail's indexes."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accessgate.accounts.roles import Role, has_role
from accessgate.catalog.models import Model

from ..models import AccessRequest, DownloadDay, DownloadUserDay, Grant, RequestStatus
from ..rules.staff import reviewable_models
from . import download_rollup

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


WEEKS = 12
DOWNLOAD_DAYS = 14
EXPIRING_DAYS = 14
DECISION_SAMPLE = 5000  # the newest decisions that the median and 90th percentile read
# Labels read at import: lazy, so each page shows them in its own language.
OUTCOMES = [("approved", _("Approved")), ("rejected", _("Rejected")), ("open", _("Open or withdrawn"))]
QUEUE_AGES = [(_("under 1 day"), 0, 1), (_("1–3 days"), 1, 3), (_("3–7 days"), 3, 7), (_("over 7 days"), 7, None)]


def dashboard_models(user) -> QuerySet[Model] | None:
    """The models a staff member's dashboard covers; None means every model."""
    if has_role(user, Role.ADMIN) or has_role(user, Role.AUDITOR):
        return None
    return reviewable_models(user)


def day_label(day: date) -> str:
    """A bar's day ("07 Nov" in English), with the month's name in the active language."""
    return formats.date_format(day, "d M")


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class Dashboard:
    weeks: list[tuple[str, list[int]]]
    decision_hours: dict
    queue: list[tuple["StrOrPromise", list[int]]]
    downloads: list[dict]
    download_days: list[tuple[str, list[int]]]
    grants: dict


def staff_dashboard(user, *, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    models = dashboard_models(user)
    requests = AccessRequest.objects.all() if models is None else AccessRequest.objects.filter(model__in=models)
    grants = Grant.objects.all() if models is None else Grant.objects.filter(model__in=models)
    return Dashboard(
        weeks=_requests_per_week(requests, now),
        decision_hours=_decision_times(requests, now),
        queue=_queue_by_age(requests, now),
        **_downloads(models, now),
        grants=_grants(grants, now),
    )


def _requests_per_week(requests, now) -> list[tuple[str, list[int]]]:
    first = _week_start(now.date()) - timedelta(weeks=WEEKS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    counts = (
        requests.filter(submitted_at__gte=since)
        .annotate(day=TruncDate("submitted_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    table = {first + timedelta(weeks=i): [0, 0, 0] for i in range(WEEKS)}
    for row in counts:
        week = _week_start(row["day"])
        column = 0 if row["status"] == RequestStatus.APPROVED else 1 if row["status"] == RequestStatus.REJECTED else 2
        if week in table:
            table[week][column] += row["n"]
    return [(day_label(week), values) for week, values in table.items()]


def _decision_times(requests, now) -> dict:
    since = now - timedelta(weeks=WEEKS)
    # One duration per row, computed by the database: half the values to fetch and parse.
    rows = list(
        requests.filter(decided_at__gte=since, status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED])
        .order_by("-decided_at")
        .values_list(ExpressionWrapper(F("decided_at") - F("submitted_at"), DurationField()), flat=True)[
            :DECISION_SAMPLE
        ]
    )
    hours = sorted(max(wait.total_seconds(), 0) / 3600 for wait in rows)
    return {
        "count": len(hours),
        "median": median(hours) if hours else 0.0,
        "p90": _percentile(hours, 0.9),
        "sampled": len(rows) == DECISION_SAMPLE,
    }


def _queue_by_age(requests, now) -> list[tuple["StrOrPromise", list[int]]]:
    aggregates = {}
    for index, (_label, low, high) in enumerate(QUEUE_AGES):
        q = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(submitted_at__gt=now - timedelta(days=high))
        aggregates[f"age{index}"] = Count("id", filter=q)
    counts = requests.filter(status=RequestStatus.SUBMITTED).aggregate(**aggregates)
    return [(label, [counts[f"age{index}"]]) for index, (label, _low, _high) in enumerate(QUEUE_AGES)]


def _downloads(models, now) -> dict:
    """Closed days from the rollup (built here once if celery-beat has not yet), the open day
    or two live from the audit trail's (action, created_at) index: never a scan of the window."""
    first = now.astimezone(UTC).date() - timedelta(days=DOWNLOAD_DAYS - 1)
    open_from = download_rollup.first_open_day(now)
    names = None if models is None else [m.full_name for m in models]
    if open_from > first:
        missing = download_rollup.download_days_missing(first, open_from - timedelta(days=1))
        download_rollup.download_days_build(days=missing, now=now)  # derived data, not audited
    closed = DownloadDay.objects.filter(day__gte=first, day__lt=open_from)
    if names is not None:
        closed = closed.filter(model_name__in=names)
    rows: list[dict[str, Any]] = [
        {"day": d.day, "model": d.model_name, "files": d.files, "bytes": d.bytes} for d in closed
    ]
    live = download_rollup.download_events(download_rollup.day_start(max(first, open_from)), models=names)
    rows += [
        {"day": r["day"], "model": r["model_key"], "files": r["files"], "bytes": r["bytes"]}
        for r in download_rollup.files_and_bytes(live, "day", "model_key")
    ]
    days = {first + timedelta(days=i): 0 for i in range(DOWNLOAD_DAYS)}
    for row in rows:
        if row["day"] in days:
            days[row["day"]] += row["files"]
    return {
        "downloads": sorted(rows, key=lambda r: (r["day"], r["model"] or "")),
        "download_days": [(day_label(day), [n]) for day, n in days.items()],
    }


def _grants(grants, now) -> dict:
    # Filtered before counting (the one definition of "active"), so the expiry index answers
    # it rather than a pass over every grant ever made.
    soon = now + timedelta(days=EXPIRING_DAYS)
    return grants.active(now=now).aggregate(
        active=Count("id"),
        expiring=Count("id", filter=Q(expires_at__lte=soon)),
    ) | {"expiring_days": EXPIRING_DAYS}


def own_downloads(user, *, now: datetime | None = None, days: int = 30, limit: int = 200) -> dict:
    """A researcher's own downloads: per day (files and bytes) and the latest events. Closed days
    come from their rollup rows, the rest live from the audit index on (actor, created_at) of
    download events, as do the latest events: a user with a million events costs a few rows."""
    now = now or timezone.now()
    first = now.astimezone(UTC).date() - timedelta(days=days - 1)
    live_from = download_rollup.live_from(first, now)
    table = {first + timedelta(days=i): [0, 0] for i in range(days)}
    for row in DownloadUserDay.objects.filter(actor_id=user.pk, day__gte=first, day__lt=live_from):
        table[row.day] = [row.files, row.bytes]
    events = download_rollup.download_events(download_rollup.day_start(live_from)).filter(actor_id=user.pk)
    for row in download_rollup.files_and_bytes(events, "day"):
        if row["day"] in table:
            table[row["day"]] = [row["files"], row["bytes"]]
    recent = download_rollup.download_events(download_rollup.day_start(first)).filter(actor_id=user.pk)
    latest = list(recent.order_by("-created_at", "-id").values("seq", "created_at", "action", "details")[:limit])
    return {"days": table, "latest": latest}
