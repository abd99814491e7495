import time
from datetime import timedelta

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accessgate import celery_app
from accessgate.access import services
from accessgate.access.models import AccessRequest
from accessgate.notifications.models import Email, EmailStatus
from accessgate.notifications.services import email_queue
from accessgate.notifications.tasks import deliver_email, redeliver_pending
from tests.support.applications import application
from tests.support.celery import broker


def queue_one(**context):
    return email_queue(to=["a@example.org"], template="grant_revoked", context={"model_name": "m", **context})


@pytest.mark.django_db
def test_email_is_sent_after_commit_with_text_and_html(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_one(applicant_name="Ada", message="O'Brien & co")
        assert mail.outbox == []  # nothing leaves before commit
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "[accessgate] Your access to m was revoked"
    assert "O'Brien & co" in message.body  # plain text is not HTML-escaped
    assert "O&#x27;Brien &amp; co" in message.alternatives[0][0]
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_sends_nothing(researcher, model):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.access_request_submit(actor=researcher, **application(model))
        raise RuntimeError("boom")
    assert mail.outbox == []
    assert not Email.objects.exists()
    assert not AccessRequest.objects.exists()


@pytest.mark.django_db
def test_delivery_is_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_one()
    assert deliver_email.apply(args=[email.pk]).get() == "skipped"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_failed_send_is_recorded_and_retried(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_one()
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED  # eager mode ran every retry at once
    assert email.attempts == 8
    assert "SMTPServerDisconnected" in email.last_error


@pytest.mark.django_db(transaction=True)
def test_down_broker_loses_nothing(researcher, model):
    """The request is saved and the e-mail stays pending; the sweeper sends it later."""
    with broker("redis://127.0.0.1:1/0"):
        request = services.access_request_submit(actor=researcher, **application(model))
    assert AccessRequest.objects.filter(pk=request.pk).exists()
    pending = Email.objects.filter(status=EmailStatus.PENDING)
    assert pending.count() == 2 and mail.outbox == []

    Email.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert redeliver_pending() == 2
    assert not Email.objects.filter(status=EmailStatus.PENDING).exists()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([researcher.email, model.reviewers.get().email])


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_delivery_through_a_real_redis_broker_and_worker(redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    with broker(redis_url), start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        with transaction.atomic():
            email = queue_one()
        for _ in range(100):
            email.refresh_from_db()
            if email.status == EmailStatus.SENT:
                break

            time.sleep(0.05)
    assert email.status == EmailStatus.SENT
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
