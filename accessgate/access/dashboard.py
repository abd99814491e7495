"""What the staff dashboard and a researcher's download history read: a fixed number of
aggregate queries each, bounded in time, answered from indexes (requests by `submitted_at`,
grants by status and expiry, audit events by (action, created_at))."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from django.db.models import BigIntegerField, Count, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accessgate.accounts.roles import Role, has_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Model

from .models import AccessRequest, Grant, GrantStatus, RequestStatus
from .policy import reviewable_models

WEEKS = 12
DOWNLOAD_DAYS = 14
EXPIRING_DAYS = 14
DECISION_SAMPLE = 5000  # the newest decisions that the median and 90th percentile read
OUTCOMES = [("approved", "Approved"), ("rejected", "Rejected"), ("open", "Open or withdrawn")]
QUEUE_AGES = [("under 1 day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7), ("over 7 days", 7, None)]
DOWNLOAD_ACTIONS = [AuditAction.DOWNLOAD_URL_ISSUED, AuditAction.DOWNLOAD_MANIFEST_ISSUED]


def dashboard_models(user) -> QuerySet[Model] | None:
    """The models a staff member's dashboard covers; None means every model."""
    if has_role(user, Role.ADMIN) or has_role(user, Role.AUDITOR):
        return None
    return reviewable_models(user)


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
    queue: list[tuple[str, list[int]]]
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
    return [(week.strftime("%d %b"), values) for week, values in table.items()]


def _decision_times(requests, now) -> dict:
    since = now - timedelta(weeks=WEEKS)
    rows = list(
        requests.filter(decided_at__gte=since, status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED])
        .order_by("-decided_at")
        .values_list("submitted_at", "decided_at")[:DECISION_SAMPLE]
    )
    hours = sorted(max((decided - submitted).total_seconds(), 0) / 3600 for submitted, decided in rows)
    return {
        "count": len(hours),
        "median": median(hours) if hours else 0.0,
        "p90": _percentile(hours, 0.9),
        "sampled": len(rows) == DECISION_SAMPLE,
    }


def _queue_by_age(requests, now) -> list[tuple[str, list[int]]]:
    aggregates = {}
    for index, (_, low, high) in enumerate(QUEUE_AGES):
        q = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(submitted_at__gt=now - timedelta(days=high))
        aggregates[f"age{index}"] = Count("id", filter=q)
    counts = requests.filter(status=RequestStatus.SUBMITTED).aggregate(**aggregates)
    return [(label, [counts[f"age{index}"]]) for index, (label, _, _) in enumerate(QUEUE_AGES)]


def _download_events(models, since):
    events = AuditEvent.objects.filter(action__in=DOWNLOAD_ACTIONS, created_at__gte=since)
    if models is not None:
        events = events.filter(details__model__in=[m.full_name for m in models])
    return events


def _downloads(models, now) -> dict:
    first = now.date() - timedelta(days=DOWNLOAD_DAYS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    rows = list(
        _download_events(models, since)
        .annotate(
            day=TruncDate("created_at"),
            model_key=KeyTextTransform("model", "details"),
            files=Coalesce(Cast(KeyTextTransform("file_count", "details"), BigIntegerField()), 1),
            size=Coalesce(
                Cast(KeyTextTransform("size", "details"), BigIntegerField()),
                Cast(KeyTextTransform("total_bytes", "details"), BigIntegerField()),
                0,
            ),
        )
        .values("day", "model_key")
        .annotate(n=Sum("files"), bytes=Sum("size"))
        .order_by("day", "model_key")
    )
    days = {first + timedelta(days=i): 0 for i in range(DOWNLOAD_DAYS)}
    for row in rows:
        if row["day"] in days:
            days[row["day"]] += row["n"]
    return {
        "downloads": [
            {"day": row["day"], "model": row["model_key"], "files": row["n"], "bytes": row["bytes"]} for row in rows
        ],
        "download_days": [(day.strftime("%d %b"), [n]) for day, n in days.items()],
    }


def _grants(grants, now) -> dict:
    soon = now + timedelta(days=EXPIRING_DAYS)
    active = Q(status=GrantStatus.ACTIVE, expires_at__gt=now)
    return grants.aggregate(
        active=Count("id", filter=active),
        expiring=Count("id", filter=active & Q(expires_at__lte=soon)),
    ) | {"expiring_days": EXPIRING_DAYS}


def own_downloads(user, *, now: datetime | None = None, days: int = 30, limit: int = 200) -> dict:
    """A researcher's own downloads: per day (files and bytes) and the latest events."""
    now = now or timezone.now()
    first = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo)
    events = AuditEvent.objects.filter(actor_id=user.pk, action__in=DOWNLOAD_ACTIONS, created_at__gte=since)
    per_day = (
        events.annotate(
            day=TruncDate("created_at"),
            files=Coalesce(Cast(KeyTextTransform("file_count", "details"), BigIntegerField()), 1),
            size=Coalesce(
                Cast(KeyTextTransform("size", "details"), BigIntegerField()),
                Cast(KeyTextTransform("total_bytes", "details"), BigIntegerField()),
                0,
            ),
        )
        .values("day")
        .annotate(n=Sum("files"), bytes=Sum("size"))
        .order_by("day")
    )
    table = {first + timedelta(days=i): [0, 0] for i in range(days)}
    for row in per_day:
        if row["day"] in table:
            table[row["day"]] = [row["n"], row["bytes"]]
    latest = list(events.order_by("-id").values("seq", "created_at", "action", "details")[:limit])
    return {"days": table, "latest": latest}
