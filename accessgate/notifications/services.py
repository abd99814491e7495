from collections.abc import Collection, Iterable

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import InvalidTransition, ValidationFailed
from accessgate.core.tasks import queue_after_commit, queue_now

from . import destinations, webhook_crypto
from .models import DeliveryStatus, Email, WebhookDelivery, WebhookEndpoint
from .webhooks import DELIVER_WEBHOOK, WEBHOOK_EVENTS

DELIVER = "accessgate.notifications.tasks.deliver_email"


def queue_delivery(email_id: int) -> None:
    """Queue one e-mail now; with the broker down the row stays pending and the sweeper retries it."""
    queue_now(DELIVER, email_id, what=f"e-mail {email_id}")


@transaction.atomic
def email_queue(*, to: Iterable[str], template: str, context: dict) -> Email | None:
    """Render `templates/notifications/email/<template>` and queue it to be sent after commit.

    Each template has `_subject.txt`, `.txt` and `.html` parts.
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    base = f"notifications/email/{template}"
    # In the portal's language, not the language of whoever's request sent it (a reviewer's
    # browser must not pick the applicant's language); accounts store no language of their own.
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        body_text = render_to_string(f"{base}.txt", context)
        body_html = render_to_string(f"{base}.html", context)
    email = Email.objects.create(
        to=recipients, subject=f"[accessgate] {subject}", body_text=body_text, body_html=body_html
    )
    queue_after_commit(DELIVER, email.pk, what=f"e-mail {email.pk}")
    return email


@transaction.atomic
def email_queue_message(message: EmailMessage) -> Email:
    """Queue a message another library rendered (allauth's verification and reset mails)."""
    html = ""
    for content, mimetype in getattr(message, "alternatives", []):
        if mimetype == "text/html":
            html = content
    if message.content_subtype == "html":
        html, text = str(message.body), ""
    else:
        text = str(message.body)
    email = Email.objects.create(to=list(message.to), subject=str(message.subject), body_text=text, body_html=html)
    queue_after_commit(DELIVER, email.pk, what=f"e-mail {email.pk}")
    return email


def build_message(email: Email) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=email.subject, body=email.body_text, to=email.to)
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    return message


# --- webhook endpoints (the admin's; every change audited) --------------------------------


def _check_endpoint(url: str, events: Collection[str]) -> tuple[str, list[str]]:
    # A public destination (or an allow-listed network), no credentials, https outside
    # development: `destinations`. Checked again, after a fresh lookup, at every delivery.
    url = destinations.check_url(url)
    known = [str(action.value) for action in WEBHOOK_EVENTS]
    chosen = [action for action in known if action in set(events)]
    unknown = sorted(set(events) - set(known))
    if unknown:
        raise ValidationFailed(
            _("Unknown webhook events: %(unknown)s.") % {"unknown": ", ".join(unknown)}, field="events"
        )
    if not chosen:
        raise ValidationFailed(_("Choose at least one event to send."), field="events")
    return url, chosen


@transaction.atomic
def webhook_endpoint_create(
    *,
    actor,
    url: str,
    events: Collection[str],
    model=None,
    description: str = "",
    meta: RequestMeta | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint for one model (or all when `model` is None). Returns the endpoint
    and its signing secret, which is shown to the admin this once and stored encrypted."""
    url, events = _check_endpoint(url, events)
    secret = webhook_crypto.generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        description=description.strip()[:200],
        model=model,
        events=events,
        secret_encrypted=webhook_crypto.encrypt_secret(secret),
        secret_hint=secret[-4:],
        created_by_label=getattr(actor, "email", "system"),
    )
    record(
        actor=actor,
        action=AuditAction.NOTIFICATIONS_WEBHOOK_CREATED,
        target=endpoint,
        meta=meta,
        url=url,
        model=model.full_name if model is not None else None,
        events=events,
        secret_hint=endpoint.secret_hint,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(
    *,
    actor,
    endpoint: WebhookEndpoint,
    url: str,
    events: Collection[str],
    model=None,
    description: str = "",
    meta: RequestMeta | None = None,
) -> WebhookEndpoint:
    """Change where an endpoint points and what it receives; the secret stays. Records the
    fields that changed (nothing when none did)."""
    url, events = _check_endpoint(url, events)
    endpoint = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("model").get(pk=endpoint.pk)
    before = _describe(endpoint)
    endpoint.url, endpoint.events, endpoint.model = url, events, model
    endpoint.description = description.strip()[:200]
    after = _describe(endpoint)
    changed = sorted(key for key in after if after[key] != before[key])
    if changed:
        endpoint.save(update_fields=["url", "events", "model", "description"])
        record(
            actor=actor,
            action=AuditAction.NOTIFICATIONS_WEBHOOK_UPDATED,
            target=endpoint,
            meta=meta,
            changed=changed,
            **{key: after[key] for key in changed},
        )
    return endpoint


def _describe(endpoint: WebhookEndpoint) -> dict:
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "model": endpoint.model.full_name if endpoint.model is not None else None,
        "description": endpoint.description,
    }


@transaction.atomic
def webhook_endpoint_rotate_secret(
    *, actor, endpoint: WebhookEndpoint, meta: RequestMeta | None = None
) -> tuple[WebhookEndpoint, str]:
    """Replace the signing secret at once; deliveries sent from now on use the new one."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    previous_hint = endpoint.secret_hint
    secret = webhook_crypto.generate_secret()
    endpoint.secret_encrypted = webhook_crypto.encrypt_secret(secret)
    endpoint.secret_hint = secret[-4:]
    endpoint.secret_rotated_at = timezone.now()
    endpoint.save(update_fields=["secret_encrypted", "secret_hint", "secret_rotated_at"])
    record(
        actor=actor,
        action=AuditAction.NOTIFICATIONS_WEBHOOK_SECRET_ROTATED,
        target=endpoint,
        meta=meta,
        previous_secret_hint=previous_hint,
        secret_hint=endpoint.secret_hint,
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_set_active(
    *, actor, endpoint: WebhookEndpoint, active: bool, meta: RequestMeta | None = None
) -> bool:
    """Disable (nothing more is sent; pending deliveries are dropped) or enable an endpoint.
    Returns False when it was already so."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.is_active == active:
        return False
    endpoint.is_active = active
    endpoint.save(update_fields=["is_active"])
    record(
        actor=actor,
        action=(AuditAction.NOTIFICATIONS_WEBHOOK_ENABLED if active else AuditAction.NOTIFICATIONS_WEBHOOK_DISABLED),
        target=endpoint,
        meta=meta,
        url=endpoint.url,
    )
    return True


@transaction.atomic
def webhook_delivery_redeliver(*, actor, delivery: WebhookDelivery, meta: RequestMeta | None = None) -> WebhookDelivery:
    """Send a delivery's body again, as a new delivery (new `Webhook-Id`, same event `id`)."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.is_active:
        raise InvalidTransition(_("This endpoint is disabled; enable it before redelivering."))
    if delivery.status == DeliveryStatus.PENDING:
        raise InvalidTransition(_("This delivery is still being tried; wait for it to finish or fail."))
    again = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        body=delivery.body,
        redelivery_of=delivery,
    )
    record(
        actor=actor,
        action=AuditAction.NOTIFICATIONS_WEBHOOK_REDELIVERED,
        target=delivery.endpoint,
        meta=meta,
        delivery_id=delivery.pk,
        new_delivery_id=again.pk,
        event_type=delivery.event_type,
        previous_status=delivery.status,
    )
    queue_after_commit(DELIVER_WEBHOOK, again.pk, what=f"webhook delivery {again.pk}")
    return again
