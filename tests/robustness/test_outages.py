"""The cache (Redis) down: issuance and log-in fail closed with 503 + Retry-After, and
change nothing. Uses a real Redis cache backend pointed at a port nothing listens on."""

import pytest
from django.core.cache import caches
from django.urls import reverse

from accessgate.access import services
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.downloads.models import DownloadCounter
from tests.support.applications import application
from tests.support.network import closed_port

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/13",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # (pytest-django's settings fixture sends setting_changed, which resets the cache handler)
    assert "redis" in type(caches["default"]).__module__


@pytest.fixture
def grant_holder(researcher, auto_model):
    services.access_request_submit(actor=researcher, **application(auto_model))
    return researcher


def resolve_url(model):
    return reverse("downloads:resolve", args=[model.namespace, model.name, "1.0", "model.safetensors"])


def test_url_issuance_fails_closed_for_bearer_clients(client, grant_holder, auto_model, dead_cache):
    _, secret = token_create(actor=grant_holder, name="cluster")
    before = AuditEvent.objects.count()
    response = client.get(resolve_url(auto_model), HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["error"]["code"] == "service_unavailable"
    assert AuditEvent.objects.count() == before
    assert not DownloadCounter.objects.exists()


def test_url_issuance_fails_closed_for_browsers(client, grant_holder, auto_model, dead_cache):
    client.force_login(grant_holder)
    before = AuditEvent.objects.count()
    response = client.get(resolve_url(auto_model))
    assert response.status_code == 503 and response.has_header("Retry-After")
    assert b"nothing was changed" in response.content
    assert b"Traceback" not in response.content
    assert AuditEvent.objects.count() == before


def test_login_fails_closed(client, dead_cache):
    user = factories.UserFactory()
    before = AuditEvent.objects.count()
    response = client.post(reverse("account_login"), {"login": user.email, "password": factories.PASSWORD})
    assert response.status_code == 503 and response.has_header("Retry-After")
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.count() == before


def test_server_error_handler_turns_an_outage_into_503(rf):
    import redis

    from accessgate.http_guards import server_error

    request = rf.get("/")
    try:
        raise redis.exceptions.ConnectionError("down")
    except redis.exceptions.ConnectionError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "30"
    try:
        raise KeyError("bug")
    except KeyError:
        response = server_error(request)
    assert response.status_code == 500
