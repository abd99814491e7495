"""The S3 endpoint down or slow (a real s3rver behind a TCP proxy we stop or slow down)."""

from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import Release
from accessgate.core.jobs import JobStatus
from accessgate.downloads.models import ReleaseImport

from .. import factories
from ..support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_proxy(settings, s3rver):
    endpoint = urlsplit(s3rver["endpoint_url"])
    proxy = TcpProxy(endpoint.hostname, endpoint.port).start()
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = {**s3rver, "endpoint_url": f"http://{proxy.url_host}"}
    yield proxy
    proxy.stop()


@pytest.fixture
def source(tmp_path):
    directory = tmp_path / "checkpoint"
    directory.mkdir()
    (directory / "a.bin").write_bytes(b"a" * 1000)
    return directory


def test_s3_down_import_fails_cleanly_and_works_when_back(s3_proxy, source):
    model = factories.ModelFactory()
    assert Client().get("/health/ready").json()["checks"]["storage"]["status"] == "ok"
    s3_proxy.stop()
    ready = Client().get("/health/ready")
    assert ready.status_code == 503 and ready.json()["checks"]["storage"]["status"] == "error"
    with pytest.raises(CommandError):
        call_command("import_release", model.full_name, "1.0", str(source))
    job = ReleaseImport.objects.get()
    assert job.status == JobStatus.FAILED and job.error  # the operator sees why
    assert not Release.objects.filter(model=model).exists()
    assert not AuditEvent.objects.filter(action="download.release_imported").exists()

    s3_proxy.start()
    call_command("import_release", model.full_name, "1.0", str(source))
    assert Release.objects.get(model=model).files.count() == 1
    assert AuditEvent.objects.filter(action="download.release_imported").count() == 1


def test_slow_s3_makes_ready_fail_fast(s3_proxy):
    s3_proxy.delay = 3  # longer than the readiness probe's 2 s timeout
    response = Client().get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["storage"]["status"] == "error" and checks["database"]["status"] == "ok"


def test_s3_down_does_not_stop_url_issuance(s3_proxy, researcher, licence):
    """Signing is local (SigV4 needs no round trip): grant holders keep getting URLs, and
    their downloads resume against S3 once it is back."""
    from accessgate.access.services import access_request_submit
    from accessgate.accounts.services import token_create
    from tests.support.applications import application, make_policy

    model = factories.ModelFactory()
    make_policy(model, licence, gating="auto")
    factories.make_release(model)
    access_request_submit(actor=researcher, **application(model))
    _, secret = token_create(actor=researcher, name="cluster")
    s3_proxy.stop()
    response = Client().get(
        f"/models/{model.full_name}/1.0/files/model.safetensors", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 302 and s3_proxy.url_host in response["Location"]
