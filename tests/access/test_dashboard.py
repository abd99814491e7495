"""The staff dashboard and a researcher's download history: right numbers, bounded queries."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accessgate.access import services
from accessgate.access.models import AccessRequest
from accessgate.access.reporting.dashboard import day_label, own_downloads, staff_dashboard
from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_grant, token_create
from accessgate.core.charts import bar_chart
from tests.support.applications import application

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(researcher, reviewer, model, client):
    """One approved request with two file downloads and a manifest, one rejected, one waiting."""
    granted = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_approve(actor=reviewer, access_request=granted)
    _, secret = token_create(actor=researcher, name="cli")
    for path in ("config.json", "model.safetensors"):
        url = f"/models/{model.full_name}/1.0/files/{path}"
        assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 302
    assert (
        client.get(f"/models/{model.full_name}/1.0/manifest", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    )
    for n in range(2):
        other = factories.UserFactory(profile__full_name=f"Other Person {n}")
        req = services.access_request_submit(actor=other, **application(model, typed_name=f"Other Person {n}"))
        if n == 0:
            services.access_request_reject(actor=reviewer, access_request=req, reason="Not a fit.")
    return model


def test_staff_dashboard_numbers(reviewer, activity):
    data = staff_dashboard(reviewer)
    this_week = data.weeks[-1][1]
    assert this_week == [1, 1, 1]  # approved, rejected, open
    assert sum(values[0] for _, values in data.queue) == 1 and data.queue[0][1] == [1]
    assert data.decision_hours["count"] == 2
    assert data.grants["active"] == 1 and data.grants["expiring"] == 0
    release = activity.releases.get()
    files = release.files.all()
    total = sum(f.size for f in files)
    one = {f.path: f.size for f in files}
    [row] = data.downloads
    assert row["model"] == activity.full_name and row["files"] == 2 + files.count()
    assert row["bytes"] == one["config.json"] + one["model.safetensors"] + total
    assert data.download_days[-1][1] == [2 + files.count()]


def test_dashboard_covers_only_a_reviewers_models(activity, licence):
    stranger = factories.UserFactory()
    role_grant(actor=None, user=stranger, role=Role.REVIEWER)
    data = staff_dashboard(stranger)
    assert data.weeks[-1][1] == [0, 0, 0] and data.downloads == [] and data.grants["active"] == 0


def test_dashboard_page_and_its_queries(client, reviewer, activity, django_assert_max_num_queries):
    client.force_login(reviewer)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("review:dashboard"))
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "Requests per week by outcome" in html
    assert activity.full_name in html  # the downloads table
    # The same number of queries with more data: nothing grows with rows.
    for n in range(3):
        other = factories.UserFactory(profile__full_name=f"More Person {n}")
        services.access_request_submit(actor=other, **application(activity, typed_name=f"More Person {n}"))
    with CaptureQueriesContext(connection) as before:
        client.get(reverse("review:dashboard"))
    AccessRequest.objects.update(submitted_at=timezone.now() - timedelta(days=4))
    with CaptureQueriesContext(connection) as after:
        client.get(reverse("review:dashboard"))
    assert len(before) == len(after)


def test_researcher_sees_own_downloads(client, researcher, activity, django_assert_max_num_queries):
    data = own_downloads(researcher)
    today = max(data["days"])
    files = activity.releases.get().files.count()
    assert data["days"][today][0] == 2 + files and len(data["latest"]) == 3
    client.force_login(researcher)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("access:my_downloads"))
    assert page.status_code == 200 and "model.safetensors" in page.content.decode()


def test_chart_tells_series_apart_without_colour():
    chart = bar_chart("t", [("a", [1, 2]), ("b", [0, 3])], ["x", "y"])
    fills = {bar.fill for bar in chart.bars}
    assert fills == {"url(#chart-solid)", "url(#chart-hatch)"} and len(chart.bars) == 3
    assert all(bar.title for bar in chart.bars)


@pytest.mark.parametrize(
    ("top", "ticks"), [(0, "0 1 2 3 4"), (5, "0 2 4 6 8"), (11, "0 3 6 9 12"), (1234, "0 400 800 1,200 1,600")]
)
def test_chart_axis_has_whole_ticks(top, ticks):
    chart = bar_chart("t", [("a", [top])], ["x"])
    assert " ".join(tick["label"] for tick in chart.ticks) == ticks


def test_chart_words_and_numbers_follow_the_active_language():
    """English reads as it always did; another language gets its own month names and digit
    grouping (Django's German formats: no catalogue of ours is needed for these)."""
    day = date(2026, 3, 7)
    chart = bar_chart("t", [(day_label(day), [1234])], ["Files"])
    assert chart.bars[0].title == "07 Mar: Files 1,234" and chart.ticks[-1]["label"] == "1,600"
    with translation.override("de"):
        chart = bar_chart("t", [(day_label(day), [1234])], ["Files"])
    assert chart.bars[0].title == "07 Mär: Files 1.234" and chart.ticks[-1]["label"] == "1.600"
