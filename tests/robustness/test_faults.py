"""Fault injection on PostgreSQL with a real Redis: the database connection dropped in the
middle of a request, the cache and the broker going away and coming back, SMTP failing.
Each time: a clear error to the user, no half-done state, no lost audit event, and the
outbox delivers once the service is back. (S3: tests/downloads/test_faults_s3.py; Stripe:
tests/identity/test_stripe.py::test_provider_down_is_a_clear_error_and_changes_nothing.)"""

import io
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessRequest, Grant, RequestStatus
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.downloads.models import DownloadCounter
from accessgate.notifications.models import Email, EmailStatus
from tests.support.applications import application

from .. import factories
from ..support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def chain_is_whole():
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return "whole" in out.getvalue()


def terminate_my_backend():
    """What a DBA's pg_terminate_backend, a failover or a network cut does to the portal."""
    import psycopg

    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
        # pg_terminate_backend only signals; wait until the backend is really gone.
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            other.execute("SELECT pg_sleep(0.01)")


@pytest.fixture
def pending(postgres, researcher, model):
    return services.access_request_submit(actor=researcher, **application(model))


def test_database_connection_dropped_mid_approval(client, reviewer, pending, monkeypatch):
    client.force_login(reviewer)
    url = reverse("review:decide", args=[pending.pk, "approve"])
    from accessgate.access.services import reviews

    original = reviews.email_applicant
    emails_before = Email.objects.count()

    def drop_then_continue(*args, **kwargs):
        terminate_my_backend()  # the grant row and its audit events are written, not committed
        return original(*args, **kwargs)

    monkeypatch.setattr(reviews, "email_applicant", drop_then_continue)
    response = client.post(url, {"message": ""})
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert b"nothing was changed" in response.content

    connection.close()  # the test's own handle died with the backend
    pending.refresh_from_db()
    assert pending.status == RequestStatus.SUBMITTED
    assert not Grant.objects.exists()
    assert not AuditEvent.objects.filter(action="access.request.approved").exists()
    assert Email.objects.count() == emails_before
    assert chain_is_whole()

    monkeypatch.setattr(reviews, "email_applicant", original)
    assert client.post(url, {"message": ""}).status_code == 302  # the database is back
    assert Grant.objects.count() == 1
    assert AuditEvent.objects.filter(action="access.request.approved").count() == 1
    assert chain_is_whole()
    assert any(pending.user.email in m.to for m in mail.outbox)


def test_database_connection_dropped_mid_download_issue(researcher, auto_model, postgres, monkeypatch):
    from accessgate.downloads import fast
    from accessgate.downloads import services as download_services

    services.access_request_submit(actor=researcher, **application(auto_model))
    _, secret = token_create(actor=researcher, name="cluster")
    url = reverse("downloads:resolve", args=[auto_model.namespace, auto_model.name, "1.0", "model.safetensors"])
    original, original_fast = download_services.record, fast.inserted
    events_before = AuditEvent.objects.count()

    def drop(*args, **kwargs):
        terminate_my_backend()
        return original(*args, **kwargs)

    def drop_fast(*args, **kwargs):  # the fast path: after its statement, before its COMMIT
        terminate_my_backend()
        return original_fast(*args, **kwargs)

    monkeypatch.setattr(download_services, "record", drop)
    monkeypatch.setattr(fast, "inserted", drop_fast)
    response = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    connection.close()
    assert AuditEvent.objects.count() == events_before and not DownloadCounter.objects.exists()
    monkeypatch.setattr(download_services, "record", original)
    monkeypatch.setattr(fast, "inserted", original_fast)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 302
    assert AuditEvent.objects.filter(action="download.url_issued").count() == 1
    assert chain_is_whole()


@pytest.fixture
def redis_proxy(redis_url):
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.hostname, parts.port or 6379).start()
    yield proxy, f"redis://{proxy.url_host}{parts.path or '/0'}"
    proxy.stop()


def test_cache_goes_away_and_comes_back(settings, redis_proxy, researcher, auto_model, postgres):
    proxy, url = redis_proxy
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    services.access_request_submit(actor=researcher, **application(auto_model))
    _, secret = token_create(actor=researcher, name="cluster")
    resolve = reverse("downloads:resolve", args=[auto_model.namespace, auto_model.name, "1.0", "model.safetensors"])
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    assert Client().get(resolve, **bearer).status_code == 302

    proxy.stop()
    events = AuditEvent.objects.count()
    down = Client().get(resolve, **bearer)
    assert down.status_code == 503 and down.has_header("Retry-After")
    login = Client().post(reverse("account_login"), {"login": researcher.email, "password": factories.PASSWORD})
    assert login.status_code == 503
    assert Client().get("/health/ready").status_code == 503
    assert AuditEvent.objects.count() == events

    proxy.start()
    assert Client().get(resolve, **bearer).status_code == 302
    assert Client().get("/health/ready").status_code == 200
    assert AuditEvent.objects.filter(action="download.url_issued").count() == 2
    assert chain_is_whole()


def test_broker_goes_away_and_the_outbox_delivers_when_it_is_back(client, reviewer, pending, redis_proxy):
    """Approval works while the broker is down (the e-mail waits in the outbox); a real
    worker delivers it after the broker returns and the sweeper queues it again."""
    import redis
    from celery.contrib.testing.worker import start_worker
    from django.utils import timezone

    from accessgate import celery_app
    from accessgate.notifications.tasks import redeliver_pending
    from tests.support.celery import broker

    proxy, url = redis_proxy
    redis.Redis.from_url(url).flushdb()
    proxy.stop()
    client.force_login(reviewer)
    with broker(url):
        response = client.post(reverse("review:decide", args=[pending.pk, "approve"]), {"message": ""})
        assert response.status_code == 302
        assert AccessRequest.objects.get(pk=pending.pk).status == RequestStatus.APPROVED
        assert AuditEvent.objects.filter(action="access.request.approved").count() == 1
        approval = Email.objects.get(to__contains=[pending.user.email], subject__icontains="is granted")
        assert approval.status == EmailStatus.PENDING

        proxy.start()
        Email.objects.filter(status=EmailStatus.PENDING).update(
            created_at=timezone.now() - timezone.timedelta(minutes=5)
        )
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            assert redeliver_pending() >= 1
            for _ in range(200):
                approval.refresh_from_db()
                if approval.status == EmailStatus.SENT:
                    break
                import time

                time.sleep(0.05)
    assert approval.status == EmailStatus.SENT
    assert chain_is_whole()


def test_smtp_down_then_back(client, reviewer, pending, settings, monkeypatch):
    """SMTP hangs up: the approval still happens and is audited; the e-mail keeps its error
    and is delivered by a later retry once the server answers again."""
    from ..notifications import failing_backend

    calls = {"n": 0}
    original = failing_backend.EmailBackend.send_messages

    def down_twice(self, messages):
        calls["n"] += 1
        if calls["n"] <= 2:
            return original(self, messages)
        return len(mail.outbox.extend(messages) or messages)

    monkeypatch.setattr(failing_backend.EmailBackend, "send_messages", down_twice)
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    client.force_login(reviewer)
    assert client.post(reverse("review:decide", args=[pending.pk, "approve"]), {"message": ""}).status_code == 302
    approval = Email.objects.get(to__contains=[pending.user.email], subject__icontains="is granted")
    assert approval.status == EmailStatus.SENT and approval.attempts == 3
    assert AuditEvent.objects.filter(action="access.request.approved").count() == 1
