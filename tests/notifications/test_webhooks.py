"""Outgoing webhooks end to end: the audited change writes the outbox row, the task POSTs
it (signed) to a real HTTP receiver on 127.0.0.1, failures retry and are logged."""

import json
import re
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
import time_machine
from celery.contrib.testing.worker import start_worker
from django.db import transaction
from django.utils import timezone

from accessgate import celery_app
from accessgate.access import services as access
from accessgate.access.models import AccessRequest, Grant
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import InvalidTransition
from accessgate.notifications import services, webhook_delivery
from accessgate.notifications.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from accessgate.notifications.sending import post
from accessgate.notifications.tasks import (
    WEBHOOK_BACKOFF,
    WEBHOOK_MAX_ATTEMPTS,
    deliver_due_webhooks,
    deliver_webhook,
    redeliver_pending,
)
from tests.support.applications import application
from tests.support.celery import broker

from .. import factories

WEBHOOKS_DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def readme_verifier():
    """The receiver snippet from docs/webhooks.md, run as written."""
    blocks = re.findall(r"```python\n(.*?)```", WEBHOOKS_DOC.read_text(), flags=re.S)
    [snippet] = [block for block in blocks if "def verify_webhook" in block]
    namespace = {}
    exec(snippet, namespace)  # noqa: S102 (our own docs, to prove they work as written)
    return namespace["verify_webhook"]


def submit(researcher, model, capture):
    with capture(execute=True):
        return access.access_request_submit(actor=researcher, **application(model))


@pytest.mark.django_db
def test_delivery_is_signed_and_verifies_with_the_readme_snippet(
    webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks
):
    endpoint, secret = webhook_endpoint()
    request = submit(researcher, model, django_capture_on_commit_callbacks)

    [received] = receiver.requests
    verify = readme_verifier()
    signature = received.headers["Webhook-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", signature)
    assert verify(secret, signature, received.body)
    assert not verify(secret, signature, received.body.replace(b"submitted", b"approved"))
    assert not verify("whsec_someone-else", signature, received.body)
    stale = re.sub(r"t=\d+", "t=1000", signature)
    assert not verify(secret, stale, received.body)

    body = json.loads(received.body)
    event = AuditEvent.objects.get(action="access.request.submitted")
    assert body == {
        "id": f"evt_{event.pk}",
        "type": "access.request.submitted",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "model": model.full_name,
        "data": {
            "audit_event_id": event.pk,
            "actor": researcher.email,
            "request_id": request.pk,
            "grant_id": None,
            "user": {"email": researcher.email, "handle": getattr(researcher, "username", None)},
        },
    }
    assert received.headers["Content-Type"] == "application/json"
    delivery = WebhookDelivery.objects.get()
    assert received.headers["Webhook-Id"] == str(delivery.uuid)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert secret.encode() not in received.body


@pytest.mark.django_db
def test_approval_and_revocation_carry_ids_user_and_reason(
    webhook_endpoint, receiver, researcher, reviewer, model, django_capture_on_commit_callbacks
):
    webhook_endpoint()
    request = submit(researcher, model, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        grant = access.access_request_approve(actor=reviewer, access_request=request)
    with django_capture_on_commit_callbacks(execute=True):
        access.grant_revoke(actor=reviewer, grant=grant, reason="Licence breach reported.")
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [b["type"] for b in bodies] == [
        "access.request.submitted",
        "access.request.approved",
        "grant.created",
        "grant.revoked",
    ]
    approved, created, revoked = bodies[1:]
    assert approved["data"] | {"audit_event_id": 0} == {
        "audit_event_id": 0,
        "actor": reviewer.email,
        "request_id": request.pk,
        "grant_id": grant.pk,
        "user": {"email": researcher.email, "handle": getattr(researcher, "username", None)},
        "automatic": False,
    }
    assert created["data"]["expires_at"] == grant.expires_at.isoformat()
    assert revoked["data"]["grant_id"] == grant.pk and revoked["data"]["request_id"] == request.pk
    assert revoked["data"]["reason"] == "Licence breach reported."
    assert revoked["data"]["user"]["email"] == researcher.email


def run_due(after: timedelta):
    """Run the due-deliveries sweep `after` from now (the clock moved on with time-machine)."""
    with time_machine.travel(timezone.now() + after, tick=True):
        return deliver_due_webhooks()


@pytest.mark.django_db
def test_a_500_is_retried_with_the_same_webhook_id_until_it_succeeds(
    webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks
):
    webhook_endpoint(events=["access.request.submitted"])
    receiver.statuses[:] = [500, 503]
    submit(researcher, model, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1  # eager mode: the retry waits for its moment
    assert run_due(WEBHOOK_BACKOFF[0] + timedelta(seconds=1)) == 1
    assert run_due(WEBHOOK_BACKOFF[0] + WEBHOOK_BACKOFF[1] + timedelta(seconds=2)) == 1

    assert len(receiver.requests) == 3
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.DELIVERED,
        3,
        200,
        "",
    )
    assert delivery.next_attempt_at is None


@pytest.mark.django_db
def test_a_receiver_that_keeps_failing_ends_failed_on_the_schedule_with_its_answer_logged(
    webhook_endpoint, receiver, researcher, model, django_capture_on_commit_callbacks
):
    webhook_endpoint(events=["access.request.submitted"])
    receiver.statuses[:] = [500] * 20
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        submit(researcher, model, django_capture_on_commit_callbacks)
    moments = [start]
    for wait in WEBHOOK_BACKOFF:
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == moments[-1] + wait  # the next attempt is in the future
        with time_machine.travel(moments[-1] + wait - timedelta(seconds=1), tick=False):
            assert deliver_due_webhooks() == 0  # not yet
        moments.append(moments[-1] + wait)
        with time_machine.travel(moments[-1], tick=False):
            assert deliver_due_webhooks() == 1
    delivery = WebhookDelivery.objects.get()
    assert len(receiver.requests) == WEBHOOK_MAX_ATTEMPTS == len(moments)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        WEBHOOK_MAX_ATTEMPTS,
        500,
        None,
    )
    assert moments[-1] - start > timedelta(hours=10)  # a short outage does not lose the event
    assert delivery.last_error == "HTTP 500: receiver says no"
    assert deliver_webhook.apply(args=[delivery.pk]).get() == "skipped"  # idempotent
    assert len(receiver.requests) == WEBHOOK_MAX_ATTEMPTS


@pytest.mark.django_db
def test_down_receiver_fails_the_delivery_not_the_request(
    webhook_endpoint, researcher, reviewer, model, django_capture_on_commit_callbacks
):
    webhook_endpoint(url="http://127.0.0.1:9/nobody-listens/")  # the discard port: refused
    request = submit(researcher, model, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        grant = access.access_request_approve(actor=reviewer, access_request=request)
    assert Grant.objects.active().filter(pk=grant.pk).exists()
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.event_type for d in deliveries] == [
        "access.request.submitted",
        "access.request.approved",
        "grant.created",
    ]
    for delivery in deliveries:
        assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code is None
        assert delivery.attempts == 1 and delivery.next_attempt_at > timezone.now()
        assert "ConnectionRefused" in delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_writes_and_sends_nothing(webhook_endpoint, receiver, researcher, model):
    webhook_endpoint()
    with pytest.raises(RuntimeError), transaction.atomic():
        access.access_request_submit(actor=researcher, **application(model))
        assert WebhookDelivery.objects.count() == 1  # written with the change…
        raise RuntimeError("boom")
    assert not WebhookDelivery.objects.exists()  # …and gone with it
    assert not AccessRequest.objects.exists()
    assert receiver.requests == []


@pytest.mark.django_db
def test_event_and_model_filters(
    webhook_endpoint, receiver, researcher, reviewer, model, auto_model, django_capture_on_commit_callbacks
):
    revocations, _ = webhook_endpoint(events=["grant.revoked"])
    this_model, _ = webhook_endpoint(model=model)
    other_model, _ = webhook_endpoint(model=factories.ModelFactory())
    request = submit(researcher, model, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        grant = access.access_request_approve(actor=reviewer, access_request=request)
        access.access_request_submit(actor=researcher, **application(auto_model))  # another model
    with django_capture_on_commit_callbacks(execute=True):
        access.grant_revoke(actor=reviewer, grant=grant, reason="Done.")

    def types(endpoint):
        return list(endpoint.deliveries.order_by("id").values_list("event_type", flat=True))

    assert types(revocations) == ["grant.revoked"]
    assert types(this_model) == [
        "access.request.submitted",
        "access.request.approved",
        "grant.created",
        "grant.revoked",
    ]
    assert types(other_model) == []
    assert len(receiver.requests) == 5
    assert {json.loads(r.body)["model"] for r in receiver.requests} == {model.full_name}


@pytest.mark.django_db
def test_disabled_endpoint_gets_nothing_and_its_pending_deliveries_are_dropped(
    webhook_endpoint, receiver, researcher, model, admin_user, events
):
    endpoint, _ = webhook_endpoint()
    with transaction.atomic():  # on_commit never runs here: the delivery stays pending
        access.access_request_submit(actor=researcher, **application(model))
    with transaction.atomic():
        assert services.webhook_endpoint_set_active(actor=admin_user, endpoint=endpoint, active=False)
        assert not services.webhook_endpoint_set_active(actor=admin_user, endpoint=endpoint, active=False)
    pending = WebhookDelivery.objects.get()
    assert deliver_webhook.apply(args=[pending.pk]).get() == "disabled"
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.FAILED and "disabled" in pending.last_error
    with transaction.atomic():
        access.access_request_withdraw(actor=researcher, access_request=AccessRequest.objects.get())
    assert WebhookDelivery.objects.count() == 1 and receiver.requests == []
    assert events()[-2:] == ["notifications.webhook.disabled", "access.request.withdrawn"]


@pytest.mark.django_db(transaction=True)
def test_down_broker_loses_nothing(webhook_endpoint, receiver, researcher, model):
    webhook_endpoint()
    with broker("redis://127.0.0.1:1/0"):
        access.access_request_submit(actor=researcher, **application(model))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and receiver.requests == []
    assert redeliver_pending() == 0  # too fresh: the first send may still be on its way

    WebhookDelivery.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert redeliver_pending() >= 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1


@pytest.mark.django_db
def test_sweeper_leaves_a_delivery_to_its_next_attempt_moment(webhook_endpoint, receiver, researcher, model):
    webhook_endpoint()
    with transaction.atomic():
        access.access_request_submit(actor=researcher, **application(model))
    old = timezone.now() - timedelta(hours=1)
    soon = timezone.now() + timedelta(minutes=1)
    WebhookDelivery.objects.update(created_at=old, attempts=2, last_attempt_at=old, next_attempt_at=soon)
    assert redeliver_pending() == 0
    assert deliver_webhook.apply(args=[WebhookDelivery.objects.get().pk]).get() == "not due"
    assert receiver.requests == []
    WebhookDelivery.objects.update(next_attempt_at=old)  # due (or a lease a dead worker left)
    assert redeliver_pending() == 1
    assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED and len(receiver.requests) == 1


@pytest.mark.django_db
def test_redelivery_sends_the_same_body_under_a_new_webhook_id(
    webhook_endpoint, receiver, researcher, model, admin_user, events, django_capture_on_commit_callbacks
):
    endpoint, secret = webhook_endpoint(events=["access.request.submitted"])
    submit(researcher, model, django_capture_on_commit_callbacks)
    first = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.webhook_delivery_redeliver(actor=admin_user, delivery=first)
    assert events()[-1] == "notifications.webhook.redelivered"
    event = AuditEvent.objects.get(action="notifications.webhook.redelivered")
    assert event.actor == admin_user and event.target_id == str(endpoint.pk)
    assert event.details == {
        "delivery_id": first.pk,
        "new_delivery_id": again.pk,
        "event_type": "access.request.submitted",
        "previous_status": "delivered",
    }
    assert len(receiver.requests) == 2
    one, two = receiver.requests
    assert one.body == two.body and one.headers["Webhook-Id"] != two.headers["Webhook-Id"]
    assert readme_verifier()(secret, two.headers["Webhook-Signature"], two.body)
    again.refresh_from_db()
    assert again.status == DeliveryStatus.DELIVERED and again.redelivery_of == first


@pytest.mark.django_db
def test_redelivery_refuses_pending_deliveries_and_disabled_endpoints(
    webhook_endpoint, researcher, model, admin_user, events
):
    endpoint, _ = webhook_endpoint()
    with transaction.atomic():
        access.access_request_submit(actor=researcher, **application(model))
    delivery = WebhookDelivery.objects.get()
    before = events()
    with pytest.raises(InvalidTransition, match="still being tried"):
        services.webhook_delivery_redeliver(actor=admin_user, delivery=delivery)
    WebhookDelivery.objects.update(status=DeliveryStatus.FAILED)
    WebhookEndpoint.objects.update(is_active=False)
    with pytest.raises(InvalidTransition, match="disabled"):
        services.webhook_delivery_redeliver(actor=admin_user, delivery=delivery)
    assert events() == before and WebhookDelivery.objects.count() == 1


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_retry_through_a_real_redis_broker_and_worker(
    redis_url, webhook_endpoint, receiver, researcher, model, monkeypatch
):
    """Not eager: the request returns once the row is written; a worker sends, gets a 500,
    schedules the retry with a countdown through the broker, and succeeds."""
    monkeypatch.setattr(webhook_delivery, "WEBHOOK_BACKOFF", [timedelta(seconds=1)] * 7)
    redis.Redis.from_url(redis_url).flushdb()
    webhook_endpoint(events=["access.request.submitted"])
    receiver.statuses[:] = [500]
    with broker(redis_url), start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        access.access_request_submit(actor=researcher, **application(model))
        delivery = WebhookDelivery.objects.get()
        for _ in range(400):
            delivery.refresh_from_db()
            if delivery.status != DeliveryStatus.PENDING:
                break
            time.sleep(0.05)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 2, 200)
    assert [r.headers["Webhook-Id"] for r in receiver.requests] == [str(delivery.uuid)] * 2


@pytest.mark.django_db
def test_expiry_is_sent_as_a_system_event(
    webhook_endpoint, receiver, researcher, reviewer, model, django_capture_on_commit_callbacks
):
    webhook_endpoint(events=["grant.expired"])
    request = submit(researcher, model, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        grant = access.access_request_approve(actor=reviewer, access_request=request)
    with django_capture_on_commit_callbacks(execute=True):
        assert access.grant_expire_due(now=grant.expires_at + timedelta(seconds=1)) == 1
    [received] = receiver.requests
    body = json.loads(received.body)
    assert body["type"] == "grant.expired" and body["model"] == model.full_name
    assert body["data"]["actor"] == "system"
    assert (body["data"]["grant_id"], body["data"]["request_id"]) == (grant.pk, request.pk)
    assert body["data"]["user"]["email"] == researcher.email


@pytest.mark.django_db
def test_a_receiver_that_never_answers_is_cut_at_the_deadline(settings, receiver):
    settings.ACCESSGATE_WEBHOOK_TIMEOUT = 1
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        status, error = post(
            url=f"http://127.0.0.1:{silent.getsockname()[1]}/", secret="whsec_x", body=b"{}", webhook_id="id"
        )
    finally:
        silent.close()
    assert status is None and "No complete answer within 1 s" in error
