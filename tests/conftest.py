import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from accessgate.audit.models import AuditEvent
from accessgate.audit.signing import generate_private_key_pem
from tests.support.applications import make_policy
from tests.support.permissions import world  # noqa: F401 (the permission matrix's seeded portal, a fixture)
from tests.support.services import need_service

from . import factories

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "tests" / "support" / "s3rver-sigv4.js"
BUCKET = "weights"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3rver(tmp_path_factory):
    """A real s3rver process on a free loopback port, with AWS's SigV4 check in front of it."""
    node = shutil.which("node")
    installed = (ROOT / "node_modules" / "s3rver").is_dir() and (ROOT / "node_modules" / "@smithy").is_dir()
    need_service(node is not None and installed, "s3rver (npm ci installs it from package.json)")
    port = _free_port()
    directory = tmp_path_factory.mktemp("s3rver")
    process = subprocess.Popen(
        [node, str(LAUNCHER), str(directory), str(port), BUCKET],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        if not line.startswith("listening"):
            pytest.fail(f"s3rver did not start: {line}{process.stdout.read() if process.poll() is not None else ''}")
        yield {
            "bucket": BUCKET,
            "endpoint_url": f"http://127.0.0.1:{port}",
            "region": "us-east-1",
            "access_key_id": "S3RVER",
            "secret_access_key": "S3RVER",
            "addressing_style": "path",
        }
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def audit_signing_key_pem():
    return generate_private_key_pem().decode()


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path, audit_signing_key_pem):
    settings.ACCESSGATE_AUDIT_SIGNING_KEY = audit_signing_key_pem
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ACCESSGATE_LOCAL_STORAGE_ROOT = tmp_path / "weights"
    settings.ACCESSGATE_UPLOAD_ROOT = tmp_path / "uploads"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.SITE_URL = "http://testserver"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    cache.clear()


@pytest.fixture(autouse=True)
def _audit_truncate_trigger(request):
    """On PostgreSQL the audit table refuses TRUNCATE, which Django's test harness uses to
    flush after a transactional test. Lift only that trigger for the flush; every test
    starts with it on again."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        yield
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames
    request.getfixturevalue("transactional_db" if transactional else "db")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_truncate")
    yield
    if transactional and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate")


@pytest.fixture
def postgres(db):
    need_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL=postgres://…)")


@pytest.fixture
def redis_url():
    url = os.environ.get("ACCESSGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    # Under pytest-xdist each worker gets its own database, so a real Celery worker started
    # by one test never takes another worker's tasks from a shared queue.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    if worker.isdigit() and int(worker):
        base, db = url.rsplit("/", 1)
        url = f"{base}/{(int(db) - int(worker)) % 16}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        available = True
    except redis.exceptions.RedisError:
        available = False
    need_service(available, f"Redis at {url}")
    return url


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    need_service(path is not None, "Chromium (apt-get install chromium)")
    return path


@pytest.fixture
def events():
    """The audit actions written since the test began, oldest first (in insertion order: the
    chainer links them into the chain after their transaction commits)."""
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def read():
        return list(AuditEvent.objects.filter(id__gt=start).order_by("id").values_list("action", flat=True))

    return read


@pytest.fixture
def researcher(db):
    return factories.UserFactory(profile__full_name="Rosalind Franklin")


@pytest.fixture
def other_researcher(db):
    return factories.UserFactory()


@pytest.fixture
def reviewer(db):
    return factories.UserFactory(role="reviewer")


@pytest.fixture
def auditor(db):
    return factories.UserFactory(role="auditor")


@pytest.fixture
def publisher(db):
    return factories.UserFactory(role="publisher")


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(role="admin")


@pytest.fixture
def licence(db):
    return factories.LicenseFactory()


@pytest.fixture
def model(db, licence, reviewer):
    """A manually reviewed model with a policy and one release; `reviewer` reviews it."""
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence)
    factories.make_release(model)
    return model


@pytest.fixture
def auto_model(db, licence):
    model = factories.ModelFactory()
    make_policy(model, licence, gating="auto")
    factories.make_release(model)
    return model


@pytest.fixture
def site_url():
    return django_settings.SITE_URL


@pytest.fixture(params=["local", "s3"])
def backend(request, settings):
    """Run a test once per storage backend."""
    if request.param == "s3":
        settings.ACCESSGATE_STORAGE_BACKEND = "s3"
        settings.ACCESSGATE_S3 = request.getfixturevalue("s3rver")
    else:
        settings.ACCESSGATE_STORAGE_BACKEND = "local"
    return request.param
