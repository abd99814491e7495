"""An import's progress on the console's import page and in the admin: the same block
(a labelled <progress>, an aria-live text), kept current from a JSON status endpoint."""

import re

import pytest
from django.urls import reverse

from accessgate.core.jobs import JobStatus
from accessgate.downloads.models import ReleaseImport

from .. import factories

pytestmark = pytest.mark.django_db
RUNNING = {
    "status": JobStatus.RUNNING,
    "files_done": 3,
    "files_total": 9,
    "bytes_done": 1_200_000_000,
    "bytes_total": 4_000_000_000,
    "rate": 85_000_000,
    "current_file": "model-00004.safetensors",
}
TEXT = "3 of 9 files · 1.2 GB of 4.0 GB · 85 MB/s · about 33 s left"


@pytest.fixture
def owned(model, publisher):
    model.publishers.add(publisher)
    return model


@pytest.fixture
def job(owned):
    return ReleaseImport.objects.create(model=owned, version="2.0", source="/weights", **RUNNING)


def import_url(job, *extra):
    return reverse(
        f"publish:{'import_status' if extra else 'import'}", args=[job.model.namespace, job.model.name, job.pk]
    )


def assert_progress_block(html, status_url):
    assert re.search(r'<label for="import-progress-bar">', html)
    assert re.search(r'<progress id="import-progress-bar" max="4000000000" value="1200000000"', html)
    assert re.search(rf'<p id="import-progress-text" aria-live="polite"[^>]*>{re.escape(TEXT)}</p>', html)
    assert f'data-status-url="{status_url}"' in html
    assert "model-00004.safetensors" in html


def test_the_console_shows_a_running_import_and_keeps_it_current(client, publisher, job):
    client.force_login(publisher)
    html = client.get(import_url(job)).content.decode()
    assert_progress_block(html, import_url(job, "status"))
    assert "import-progress.js" in html and '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html

    status = client.get(import_url(job, "status")).json()
    assert status["text"] == TEXT
    assert (status["status"], status["percent"], status["eta_seconds"], status["bytes_per_second"]) == (
        "running",
        30,
        33,
        85_000_000,
    )
    assert status["current_file"] == "model-00004.safetensors" and status["finished"] is False


def test_a_finished_import_stops_refreshing(client, publisher, job):
    ReleaseImport.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error="The store refused part 4.", bytes_done=1_200_000_000
    )
    client.force_login(publisher)
    html = client.get(import_url(job)).content.decode()
    assert "import-progress.js" not in html and "http-equiv" not in html
    assert 'data-finished="true"' in html and "The store refused part 4." in html
    assert "85 MB/s" not in html  # no rate or time left once it has stopped
    status = client.get(import_url(job, "status")).json()
    assert (status["finished"], status["error"], status["current_file"]) == (True, "The store refused part 4.", "")


def test_another_publisher_sees_neither_page_nor_status(client, job):
    client.force_login(factories.UserFactory(role="publisher"))
    assert client.get(import_url(job)).status_code == 404
    assert client.get(import_url(job, "status")).status_code == 404


def test_the_admin_shows_the_same_progress(client, admin_user, job):
    client.force_login(admin_user)
    listing = client.get(reverse("admin:downloads_releaseimport_changelist")).content.decode()
    assert TEXT in listing
    status_url = reverse("admin:downloads_releaseimport_status", args=[job.pk])
    page = client.get(reverse("admin:downloads_releaseimport_change", args=[job.pk])).content.decode()
    assert_progress_block(page, status_url)
    assert "import-progress.js" in page
    assert client.get(status_url).json()["text"] == TEXT


def test_the_admins_status_endpoint_needs_the_admin(client, publisher, job):
    client.force_login(publisher)
    response = client.get(reverse("admin:downloads_releaseimport_status", args=[job.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
