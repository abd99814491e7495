import os
import shutil

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection

from accessgate.access.services import PolicySettings, policy_set
from accessgate.audit.models import AuditEvent
from accessgate.audit.signing import generate_private_key_pem

from . import factories

REQUIRE_SERVICES = os.environ.get("ACCESSGATE_REQUIRE_SERVICES", "").lower() in ("1", "true", "yes")


def need_service(available: bool, what: str) -> None:
    """Skip when a service is missing, or fail when the run requires every service (CI)."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (ACCESSGATE_REQUIRE_SERVICES=1) but is not available.", pytrace=False)
    pytest.skip(f"{what} is not available")


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
    """The audit actions written since the test began, oldest first."""
    start = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    def read():
        return list(AuditEvent.objects.filter(seq__gt=start).order_by("seq").values_list("action", flat=True))

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


def make_policy(model, licence, **overrides):
    options = {
        "statements": ["I will not redistribute the weights.", "I will not remove safeguards."],
        "gating": "manual",
        "min_intended_use_chars": 20,
        "grant_days": 30,
    }
    options.update(overrides)
    return policy_set(actor=None, model=model, terms=PolicySettings(license=licence, **options))


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


def application(model, **overrides):
    """Arguments for a valid `access_request_submit` by the `researcher` fixture."""
    values = {
        "model": model,
        "intended_use": "Red-teaming refusal behaviour for a university safety study.",
        "accepted_statement_ids": set(model.policy.statements.filter(is_active=True).values_list("pk", flat=True)),
        "typed_name": "Rosalind Franklin",
    }
    values.update(overrides)
    return values


@pytest.fixture
def site_url():
    return django_settings.SITE_URL
