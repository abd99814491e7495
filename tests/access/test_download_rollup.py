"""The per-day download rollup: equal to what the audit trail says, idempotent, filled on demand
for a day celery-beat missed, and the dashboard reads it (plus the open day live) in a fixed
number of queries."""

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accessgate.access.models import DownloadDay, DownloadDayBuilt, DownloadUserDay
from accessgate.access.reporting import download_rollup
from accessgate.access.reporting.dashboard import DOWNLOAD_DAYS, own_downloads, staff_dashboard
from accessgate.access.tasks import roll_up_downloads
from accessgate.audit.actions import AuditAction
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record

from .. import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MODELS = ("lab/alpha", "lab/beta")


def _event(at: datetime, action: str, actor=None, **details) -> None:
    with mock.patch("django.utils.timezone.now", return_value=at), transaction.atomic():
        record(actor=actor, action=action, **details)


def _url(at, model, size, actor=None):
    _event(at, AuditAction.DOWNLOAD_URL_ISSUED, actor, model=model, path="w.safetensors", size=size)


def _manifest(at, model, files, total, actor=None):
    _event(at, AuditAction.DOWNLOAD_MANIFEST_ISSUED, actor, model=model, file_count=files, total_bytes=total)


@pytest.fixture
def trail():
    """Downloads over the last three weeks, on both sides of midnight, of two models; plus
    events that are not downloads."""
    for back in range(20):
        day = datetime.combine((NOW - timedelta(days=back)).date(), datetime.min.time(), tzinfo=UTC)
        for n in range(back % 4):
            _url(day + timedelta(hours=n * 5), MODELS[n % 2], 1000 + back)
        if back % 3 == 0:
            _manifest(day, MODELS[1], 4, 40_000)  # at 00:00:00.000000, the first instant of the day
            _manifest(day + timedelta(days=1, microseconds=-1), MODELS[0], 2, 7)  # its very last instant
        _event(day + timedelta(hours=1), AuditAction.DOWNLOAD_REFUSED, model=MODELS[0], reason="quota")
    _url(NOW - timedelta(minutes=1), MODELS[0], 5)  # today, read live


def _direct(first, last, models=MODELS) -> dict:
    """The trail's own answer, computed in Python event by event."""
    counts = defaultdict(lambda: [0, 0])
    for event in AuditEvent.objects.filter(action__in=download_rollup.DOWNLOAD_ACTIONS):
        day, model = event.created_at.astimezone(UTC).date(), event.details["model"]
        if first <= day <= last and model in models:
            files = event.details.get("file_count", 1)
            counts[(day, model)][0] += files
            counts[(day, model)][1] += event.details.get("size", event.details.get("total_bytes"))
    return dict(counts)


def _rollup(first, last) -> dict:
    return {(r.day, r.model_name): [r.files, r.bytes] for r in DownloadDay.objects.filter(day__range=(first, last))}


def test_build_equals_the_trail_and_is_idempotent(trail):
    last = NOW.date() - timedelta(days=1)
    first = last - timedelta(days=34)
    assert download_rollup.download_rollup_build_missing(now=NOW) == 35
    assert _rollup(first, last) == _direct(first, last) and len(_direct(first, last)) > 10
    assert DownloadDayBuilt.objects.count() == 35  # days without downloads count as built too
    # Again: nothing missing, nothing changes; rebuilding every day by hand writes the same rows.
    assert download_rollup.download_rollup_build_missing(now=NOW) == 0
    days = [first + timedelta(days=i) for i in range(35)]
    download_rollup.download_days_build(days=days, now=NOW)
    assert _rollup(first, last) == _direct(first, last) and DownloadDay.objects.count() == len(_direct(first, last))


def test_an_open_day_is_never_rolled_up(trail):
    with pytest.raises(ValueError, match="not closed"):
        download_rollup.download_days_build(days=[NOW.date()], now=NOW)
    # Just after midnight yesterday is still settling (a download that began at 23:59:59 may
    # not have committed yet): it is read live, not frozen.
    just_after = datetime.combine(NOW.date(), datetime.min.time(), tzinfo=UTC) + timedelta(minutes=5)
    assert download_rollup.first_open_day(just_after) == NOW.date() - timedelta(days=1)
    with pytest.raises(ValueError):
        download_rollup.download_days_build(days=[NOW.date() - timedelta(days=1)], now=just_after)


def test_dashboard_matches_the_trail_and_fills_a_missed_day_on_demand(trail, admin_user):
    # celery-beat last ran five days ago; nothing since.
    download_rollup.download_rollup_build_missing(now=NOW - timedelta(days=5))
    assert not DownloadDayBuilt.objects.filter(day__gte=(NOW - timedelta(days=5)).date()).exists()
    data = staff_dashboard(admin_user, now=NOW)
    first = NOW.date() - timedelta(days=DOWNLOAD_DAYS - 1)
    expected = _direct(first, NOW.date())
    assert {(r["day"], r["model"]): [r["files"], r["bytes"]] for r in data.downloads} == expected
    assert [n for _, [n] in data.download_days] == [
        sum(v[0] for (day, _), v in expected.items() if day == first + timedelta(days=i)) for i in range(DOWNLOAD_DAYS)
    ]
    # The missed closed days were built on the way (today stays live).
    built = set(DownloadDayBuilt.objects.values_list("day", flat=True))
    assert {NOW.date() - timedelta(days=i) for i in range(1, 6)} <= built and NOW.date() not in built
    assert _rollup(first, NOW.date()) == {k: v for k, v in expected.items() if k[0] < NOW.date()}


def test_a_reviewer_sees_only_their_models_rows(trail, licence):
    reviewer = factories.UserFactory(role="reviewer")
    factories.ModelFactory(namespace="lab", name="beta", reviewers=[reviewer])
    data = staff_dashboard(reviewer, now=NOW)
    first = NOW.date() - timedelta(days=DOWNLOAD_DAYS - 1)
    assert {r["model"] for r in data.downloads} == {"lab/beta"}
    assert {(r["day"], r["model"]): [r["files"], r["bytes"]] for r in data.downloads} == _direct(
        first, NOW.date(), models=("lab/beta",)
    )


@time_machine.travel(NOW, tick=False)
def test_the_page_reads_a_fixed_number_of_queries(client, admin_user, trail, django_assert_max_num_queries):
    """The dashboard shows the days before *now*: the clock is the trail's, for the page too."""
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as cold:  # every closed day of the window still to build
        assert client.get(reverse("review:dashboard")).status_code == 200
    assert len(cold) <= 16  # the missing days are built in one aggregate and two upserts
    with django_assert_max_num_queries(len(cold)):
        page = client.get(reverse("review:dashboard"))  # built
    assert "lab/alpha" in page.content.decode()
    for back in range(DOWNLOAD_DAYS):  # more events on more days: no more queries
        _url(datetime.now(UTC) - timedelta(days=back), MODELS[1], 3)
    DownloadDayBuilt.objects.all().delete()
    DownloadDay.objects.all().delete()
    with django_assert_max_num_queries(len(cold)):
        client.get(reverse("review:dashboard"))
    # Built: session, user, roles, MFA, then one query per figure (three for the downloads).
    with django_assert_max_num_queries(11):
        client.get(reverse("review:dashboard"))


def test_the_beat_task_builds_the_closed_days(trail, settings):
    assert (
        settings.CELERY_BEAT_SCHEDULE["access-roll-up-downloads"]["task"] == "accessgate.access.tasks.roll_up_downloads"
    )
    assert roll_up_downloads() == download_rollup.ROLLUP_DAYS
    assert roll_up_downloads() == 0


def test_own_history_from_rollup_and_live_equals_the_trail(researcher, other_researcher):
    for back in range(35):
        at = NOW - timedelta(days=back, hours=back % 5)
        _url(at, MODELS[back % 2], 10 + back, actor=researcher)
        _manifest(at, MODELS[0], 3, 300, actor=researcher if back % 3 else other_researcher)
    first = NOW.date() - timedelta(days=29)

    def expected():
        counts = {first + timedelta(days=i): [0, 0] for i in range(30)}
        for event in AuditEvent.objects.filter(actor_id=researcher.pk, action__in=download_rollup.DOWNLOAD_ACTIONS):
            day = event.created_at.astimezone(UTC).date()
            if day in counts:
                counts[day][0] += event.details.get("file_count", 1)
                counts[day][1] += event.details.get("size", event.details.get("total_bytes"))
        return counts

    live = own_downloads(researcher, now=NOW)  # nothing built: every day read live
    assert live["days"] == expected() and len(live["latest"]) == 30 + 20
    download_rollup.download_rollup_build_missing(now=NOW - timedelta(days=8))  # beat stopped a week ago
    assert DownloadUserDay.objects.filter(actor=researcher).exists()
    assert own_downloads(researcher, now=NOW)["days"] == expected()
    download_rollup.download_rollup_build_missing(now=NOW)
    assert download_rollup.live_from(first, NOW) == NOW.date()
    assert own_downloads(researcher, now=NOW) == live
    assert own_downloads(other_researcher, now=NOW)["days"][NOW.date()] == [3, 300]


def test_own_history_counts_manifests_and_reads_its_index(postgres, researcher):
    other = factories.UserFactory()
    now = datetime.now(UTC)
    _manifest(now - timedelta(days=2), MODELS[0], 3, 300, actor=researcher)
    _url(now - timedelta(hours=1), MODELS[1], 10, actor=researcher)
    _url(now - timedelta(hours=1), MODELS[1], 99, actor=other)
    _url(now - timedelta(days=40), MODELS[1], 99, actor=researcher)  # outside the 30 days
    data = own_downloads(researcher, now=now)
    assert sum(f for f, _ in data["days"].values()) == 4 and sum(b for _, b in data["days"].values()) == 310
    assert [e["action"] for e in data["latest"]] == [
        AuditAction.DOWNLOAD_URL_ISSUED,
        AuditAction.DOWNLOAD_MANIFEST_ISSUED,
    ]
    # The live reads can use the partial (actor, created_at) index of download events and the
    # rollup its (actor, day) key; on these tiny tables the planner would rather scan, so
    # scanning is priced out to see the plan it can take.
    since = download_rollup.day_start(now.date() - timedelta(days=29))
    events = download_rollup.download_events(since).filter(actor_id=researcher.pk)
    rollup = DownloadUserDay.objects.filter(actor_id=researcher.pk, day__gte=since.date())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = [
            events.order_by("-created_at", "-id")[:200].explain(),
            download_rollup.files_and_bytes(events, "day").explain(),
        ]
        rollup_plan = rollup.explain()
    assert all("audit_download_actor_idx" in plan for plan in plans), plans
    assert "access_downloaduserday_one_per_day" in rollup_plan, rollup_plan


@pytest.mark.parametrize(("page", "who"), [("review:dashboard", "admin_user"), ("access:my_downloads", "researcher")])
def test_no_dashboard_query_needs_a_table_scan(postgres, client, trail, page, who, request):
    """Every query of the two pages on our tables (requests, grants, the trail, the rollup) has
    an index to answer from: with sequential scans priced out, none is left in any plan."""
    client.force_login(request.getfixturevalue(who))
    client.get(reverse(page))  # builds the missing days first
    with CaptureQueriesContext(connection) as read:
        assert client.get(reverse(page)).status_code == 200
    ours = [q["sql"] for q in read.captured_queries if re.search(r'FROM "(access|audit)_', q["sql"])]
    assert len(ours) >= (3 if page == "access:my_downloads" else 6)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for sql in ours:
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, (sql, plan)
