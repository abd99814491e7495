"""The per-model record an owner hands to their compliance office: who holds access, since
when, under which licence version, with what identity status, and what they downloaded.

Downloads come from the audit trail (`download.url_issued`, and `download.manifest_issued`
which names every file), not from counters, so the report says what the trail says. Every
read is one query whatever the number of holders or events (`REPORT_QUERIES`).
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.access.models import AccessRequest, Agreement, Grant
from accessgate.audit.actions import AuditAction
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Model, WeightFile
from accessgate.identity.models import IdentityVerification

DOWNLOAD_ACTIONS = (AuditAction.DOWNLOAD_URL_ISSUED, AuditAction.DOWNLOAD_MANIFEST_ISSUED)
TIMELINE_DAYS = 30


@dataclass
class HolderRow:
    grant: Grant
    licence_signed: str = ""
    identity: str = "none"
    urls_issued: int = 0
    files: set = field(default_factory=set)
    bytes: int = 0

    @property
    def file_count(self) -> int:
        return len(self.files)


@dataclass
class FileRow:
    path: str
    urls_issued: int = 0
    bytes: int = 0
    people: set = field(default_factory=set)

    @property
    def people_count(self) -> int:
        return len(self.people)


def _download_events(model: Model):
    return (
        AuditEvent.objects.filter(action__in=DOWNLOAD_ACTIONS, details__model=model.full_name)
        .order_by("id")  # insertion order: events not yet chained have no seq
        .values_list("action", "details")
    )


def access_report(model: Model) -> dict:
    """Holders (every grant, newest first) and files, with downloads from the audit trail."""
    signed = Subquery(
        Agreement.objects.filter(request=OuterRef("request"))
        .order_by("-signed_at", "-id")
        .values("license__version")[:1]
    )
    signed_name = Subquery(
        Agreement.objects.filter(request=OuterRef("request")).order_by("-signed_at", "-id").values("license__name")[:1]
    )
    grants = list(
        Grant.objects.filter(model=model)
        .with_is_active()
        .annotate(licence_version=signed, licence_name=signed_name)
        .select_related("user__profile")
        .order_by("-granted_at")
    )
    verified = set(
        IdentityVerification.objects.active()
        .filter(user__in=[g.user_id for g in grants])
        .values_list("user_id", flat=True)
    )
    holders = {}
    for grant in grants:
        holders[grant.pk] = HolderRow(
            grant=grant,
            licence_signed=f"{grant.licence_name} {grant.licence_version}" if grant.licence_version else "",
            identity=_("verified") if grant.user_id in verified else _("not verified"),
        )
    sizes = dict(WeightFile.objects.filter(release__model=model).values_list("path", "size"))
    files: dict[str, FileRow] = {}
    for action, details in _download_events(model).iterator():
        paths = [details.get("path")] if action == AuditAction.DOWNLOAD_URL_ISSUED else details.get("paths", [])
        holder = holders.get(details.get("grant_id"))
        for path in filter(None, paths):
            size = details.get("size") if action == AuditAction.DOWNLOAD_URL_ISSUED else sizes.get(path, 0)
            row = files.setdefault(path, FileRow(path))
            row.urls_issued += 1
            row.bytes += size or 0
            row.people.add(details.get("user"))
            if holder is not None:
                holder.urls_issued += 1
                holder.bytes += size or 0
                holder.files.add(path)
    return {"holders": list(holders.values()), "files": sorted(files.values(), key=lambda r: r.path)}


def timeline(model: Model, *, days: int = TIMELINE_DAYS, today: date | None = None) -> list[dict]:
    """Requests, grants and download URLs per day over the last `days` days (three queries)."""
    today = today or timezone.now().date()
    start = today - timedelta(days=days - 1)

    def per_day(queryset, field_name):
        rows = (
            queryset.filter(**{f"{field_name}__date__gte": start})
            .annotate(day=TruncDate(field_name))
            .values("day")
            .annotate(n=Count("pk"))
        )
        return Counter({row["day"]: row["n"] for row in rows})

    requests = per_day(AccessRequest.objects.filter(model=model), "created_at")
    grants = per_day(Grant.objects.filter(model=model), "granted_at")
    downloads = per_day(
        AuditEvent.objects.filter(action=AuditAction.DOWNLOAD_URL_ISSUED, details__model=model.full_name),
        "created_at",
    )
    out = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        out.append({"day": day, "requests": requests[day], "grants": grants[day], "downloads": downloads[day]})
    return out


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A spreadsheet never runs a cell as a formula: text starting like one gets a `'`."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


CSV_COLUMNS = [
    "email",
    "full_name",
    "affiliation",
    "grant_id",
    "grant_status",
    "granted_at",
    "expires_at",
    "licence_signed",
    "identity",
    "download_urls_issued",
    "files_downloaded",
    "bytes_downloaded",
]


def access_report_csv(model: Model) -> str:
    report = access_report(model)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["holders"]:
        grant = row.grant
        profile = getattr(grant.user, "profile", None)
        status = "active" if grant.is_active else ("expired" if grant.status == "active" else grant.status)
        writer.writerow(
            csv_safe(value)
            for value in (
                grant.user.email,
                profile.full_name if profile else "",
                profile.affiliation if profile else "",
                grant.pk,
                status,
                grant.granted_at.isoformat(),
                grant.expires_at.isoformat(),
                row.licence_signed,
                row.identity,
                row.urls_issued,
                row.file_count,
                row.bytes,
            )
        )
    return out.getvalue()
