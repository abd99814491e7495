"""Registering, rotating, disabling webhook endpoints: audited services and the admin pages."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from accessgate.access import services as access
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import ValidationFailed
from accessgate.notifications import services, webhook_crypto
from accessgate.notifications.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from tests.support.applications import application


def create(actor, **overrides):
    options = {"url": "https://hooks.example.org/accessgate", "events": ["grant.revoked"]}
    options.update(overrides)
    with transaction.atomic():
        return services.webhook_endpoint_create(actor=actor, **options)


@pytest.mark.django_db
def test_register_returns_the_secret_once_and_stores_it_encrypted(admin_user, model, events):
    endpoint, secret = create(admin_user, model=model, events=["grant.revoked", "access.request.submitted"])
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret)
    endpoint.refresh_from_db()
    assert secret not in endpoint.secret_encrypted and secret[6:] not in endpoint.secret_encrypted
    assert webhook_crypto.decrypt_secret(endpoint.secret_encrypted) == secret
    assert endpoint.secret_hint == secret[-4:]
    assert endpoint.events == ["access.request.submitted", "grant.revoked"]  # the documented order
    assert events() == ["notifications.webhook.created"]
    event = AuditEvent.objects.get(action="notifications.webhook.created")
    assert event.actor == admin_user and event.target_id == str(endpoint.pk)
    assert event.details == {
        "url": "https://hooks.example.org/accessgate",
        "model": model.full_name,
        "events": ["access.request.submitted", "grant.revoked"],
        "secret_hint": secret[-4:],
    }


@pytest.mark.django_db
def test_rotation_replaces_the_secret_audited(admin_user, events):
    endpoint, old = create(admin_user)
    with transaction.atomic():
        endpoint, new = services.webhook_endpoint_rotate_secret(actor=admin_user, endpoint=endpoint)
    assert new != old and webhook_crypto.decrypt_secret(endpoint.secret_encrypted) == new
    assert events()[-1] == "notifications.webhook.secret_rotated"
    event = AuditEvent.objects.get(action="notifications.webhook.secret_rotated")
    assert event.details == {"previous_secret_hint": old[-4:], "secret_hint": new[-4:]}
    assert old not in str(event.details) and new not in str(event.details)


@pytest.mark.django_db
def test_disable_and_enable_are_audited(admin_user, events):
    endpoint, _ = create(admin_user)
    with transaction.atomic():
        services.webhook_endpoint_set_active(actor=admin_user, endpoint=endpoint, active=False)
        services.webhook_endpoint_set_active(actor=admin_user, endpoint=endpoint, active=True)
    assert events() == [
        "notifications.webhook.created",
        "notifications.webhook.disabled",
        "notifications.webhook.enabled",
    ]
    endpoint.refresh_from_db()
    assert endpoint.is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"url": "ftp://hooks.example.org/"}, "url", "Enter a full"),
        ({"url": "not a url"}, "url", "Enter a full"),
        ({"events": []}, "events", "at least one"),
        ({"events": ["download.url_issued"]}, "events", "Unknown webhook events: download.url_issued"),
    ],
)
def test_register_refuses_bad_input(admin_user, events, overrides, field, message):
    with pytest.raises(ValidationFailed, match=message) as caught:
        create(admin_user, **overrides)
    assert caught.value.field == field
    assert events() == [] and not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_plain_http_only_when_allowed(settings, admin_user):
    settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP = False
    with pytest.raises(ValidationFailed, match="https URL"):
        create(admin_user, url="http://hooks.example.org/")
    settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP = True
    assert create(admin_user, url="http://hooks.example.org/")[0].pk


@pytest.mark.django_db
def test_secret_key_rotation_keeps_secrets_readable(settings, admin_user):
    settings.ACCESSGATE_WEBHOOK_SECRET_KEY = "old-key"
    endpoint, secret = create(admin_user)
    settings.ACCESSGATE_WEBHOOK_SECRET_KEY = "new-key,old-key"
    assert webhook_crypto.decrypt_secret(endpoint.secret_encrypted) == secret
    settings.ACCESSGATE_WEBHOOK_SECRET_KEY = "new-key"
    with pytest.raises(webhook_crypto.SecretUnreadable, match="rotate the secret"):
        webhook_crypto.decrypt_secret(endpoint.secret_encrypted)


@pytest.mark.django_db
def test_unreadable_secret_fails_the_delivery_at_once(
    settings, admin_user, researcher, model, receiver, django_capture_on_commit_callbacks
):
    settings.ACCESSGATE_WEBHOOK_SECRET_KEY = "old-key"
    create(admin_user, url=receiver.url, events=["access.request.submitted"])
    settings.ACCESSGATE_WEBHOOK_SECRET_KEY = "new-key"
    with django_capture_on_commit_callbacks(execute=True):
        access.access_request_submit(actor=researcher, **application(model))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "cannot be decrypted" in delivery.last_error
    assert receiver.requests == []


# --- the admin pages ---------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_admin_registers_an_endpoint_and_sees_the_secret_once(admin_client, admin_user, model, events):
    url = reverse("admin:notifications_webhookendpoint_add")
    assert "access.request.changes_requested" in admin_client.get(url).content.decode()
    response = admin_client.post(
        url,
        {
            "url": "https://hooks.example.org/in",
            "description": "Lab CRM",
            "model": model.pk,
            "events": ["access.request.submitted", "grant.revoked"],
        },
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', response.content.decode()).group(1)
    endpoint = WebhookEndpoint.objects.get()
    assert webhook_crypto.decrypt_secret(endpoint.secret_encrypted) == secret
    assert (endpoint.model, endpoint.description) == (model, "Lab CRM")
    assert events() == ["notifications.webhook.created"]
    assert AuditEvent.objects.get(action="notifications.webhook.created").actor == admin_user
    detail = admin_client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]))
    assert secret not in detail.content.decode() and "rotate the signing secret" in detail.content.decode()


@pytest.mark.django_db
def test_admin_form_shows_service_errors(admin_client, settings, events):
    settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP = False
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"url": "http://x.example.org/", "events": ["grant.revoked"]},
    )
    assert response.status_code == 200 and "Enter a full https URL" in response.content.decode()
    assert not WebhookEndpoint.objects.exists() and events() == []


@pytest.mark.django_db
def test_admin_rotates_disables_and_redelivers_through_the_services(
    admin_client, admin_user, researcher, model, receiver, events, django_capture_on_commit_callbacks
):
    endpoint, old = create(admin_user, url=receiver.url, events=["access.request.submitted"])
    rotate = reverse("admin:notifications_webhookendpoint_rotate", args=[endpoint.pk])
    assert "Rotate the secret" in admin_client.get(rotate).content.decode()
    assert events() == ["notifications.webhook.created"]  # the GET changes nothing
    response = admin_client.post(rotate)
    new = re.search(r'id="webhook-secret">(whsec_[^<]+)<', response.content.decode()).group(1)
    assert new != old and events()[-1] == "notifications.webhook.secret_rotated"

    with django_capture_on_commit_callbacks(execute=True):
        access.access_request_submit(actor=researcher, **application(model))
    delivery = WebhookDelivery.objects.get()
    log = admin_client.get(
        reverse("admin:notifications_webhookdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    ).content.decode()
    assert "access.request.submitted" in log and "Delivered" in log

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:notifications_webhookdelivery_changelist"),
            {"action": "redeliver", "_selected_action": [delivery.pk]},
        )
    assert events()[-1] == "notifications.webhook.redelivered"
    assert len(receiver.requests) == 2

    admin_client.post(
        reverse("admin:notifications_webhookendpoint_changelist"),
        {"action": "disable_endpoints", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert not endpoint.is_active and events()[-1] == "notifications.webhook.disabled"


@pytest.mark.django_db
def test_admin_cannot_edit_or_delete_endpoints_and_deliveries(admin_client, admin_user):
    endpoint, _ = create(admin_user)
    change = reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])
    admin_client.post(change, {"url": "https://evil.example.org/", "events": ["grant.revoked"]})
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/accessgate"
    for name in ("admin:notifications_webhookendpoint_delete", "admin:notifications_webhookdelivery_add"):
        args = [endpoint.pk] if name.endswith("delete") else []
        assert admin_client.get(reverse(name, args=args)).status_code in (403, 302)
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["researcher", "reviewer", "auditor"])
def test_nobody_else_can_rotate_or_register(client, admin_user, role, request):
    endpoint, _ = create(admin_user)
    client.force_login(request.getfixturevalue(role))
    for url, data in [
        (reverse("admin:notifications_webhookendpoint_rotate", args=[endpoint.pk]), {}),
        (
            reverse("admin:notifications_webhookendpoint_edit", args=[endpoint.pk]),
            {"url": "https://evil.example.org/", "events": ["grant.revoked"]},
        ),
        (
            reverse("admin:notifications_webhookendpoint_add"),
            {"url": "https://x.example.org/", "events": ["grant.revoked"]},
        ),
    ]:
        response = client.post(url, data)
        assert response.status_code == 302 and "login" in response["Location"]
    unchanged = WebhookEndpoint.objects.get()
    assert (unchanged.secret_encrypted, unchanged.url) == (endpoint.secret_encrypted, endpoint.url)
    assert (
        not AuditEvent.objects.filter(action__startswith="notifications.webhook.")
        .exclude(action="notifications.webhook.created")
        .exists()
    )
    assert WebhookEndpoint.objects.count() == 1


@pytest.mark.django_db
def test_update_changes_filters_keeps_the_secret_and_records_what_changed(admin_user, model, events):
    endpoint, secret = create(admin_user)
    encrypted = endpoint.secret_encrypted
    with transaction.atomic():
        services.webhook_endpoint_update(
            actor=admin_user,
            endpoint=endpoint,
            url="https://hooks.example.org/accessgate",
            events=["grant.revoked", "grant.expired"],
            model=model,
        )
        # The same values again: nothing to record.
        services.webhook_endpoint_update(
            actor=admin_user,
            endpoint=endpoint,
            url="https://hooks.example.org/accessgate",
            events=["grant.expired", "grant.revoked"],
            model=model,
        )
    endpoint.refresh_from_db()
    assert endpoint.events == ["grant.revoked", "grant.expired"] and endpoint.model == model
    assert endpoint.secret_encrypted == encrypted
    assert events() == ["notifications.webhook.created", "notifications.webhook.updated"]
    event = AuditEvent.objects.get(action="notifications.webhook.updated")
    assert event.details == {
        "changed": ["events", "model"],
        "events": ["grant.revoked", "grant.expired"],
        "model": model.full_name,
    }
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.webhook_endpoint_update(actor=admin_user, endpoint=endpoint, url="https://x.example.org/", events=[])
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.org/accessgate"


@pytest.mark.django_db
def test_admin_edits_an_endpoint_through_the_service(admin_client, admin_user, events):
    endpoint, _ = create(admin_user)
    url = reverse("admin:notifications_webhookendpoint_edit", args=[endpoint.pk])
    page = admin_client.get(url).content.decode()
    assert "https://hooks.example.org/accessgate" in page and "secret stays the same" in page
    response = admin_client.post(url, {"url": "https://new.example.org/in", "events": ["grant.expired"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == ("https://new.example.org/in", ["grant.expired"])
    assert events()[-1] == "notifications.webhook.updated"
