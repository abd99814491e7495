import smtplib
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import webhooks
from .models import DeliveryStatus, Email, EmailStatus, WebhookDelivery
from .services import build_message, queue_delivery
from .webhook_crypto import SecretUnreadable

MAX_ATTEMPTS = 8
WEBHOOK_MAX_ATTEMPTS = 8
# A pending delivery tried more recently than this may still have a retry scheduled in
# Celery (backoff reaches 600 s); the sweeper leaves it alone.
WEBHOOK_RETRY_GRACE = timedelta(minutes=15)


class WebhookDeliveryFailed(Exception):
    """The receiver answered something other than 2xx, or could not be reached."""


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=MAX_ATTEMPTS - 1,  # the first try plus these retries make MAX_ATTEMPTS
)
def deliver_email(self, email_id: int) -> str:
    """Send one queued e-mail. Idempotent: a message already sent is not sent again."""
    with transaction.atomic():
        email = Email.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.status == EmailStatus.SENT:
            return "skipped"
        email.attempts += 1
        try:
            build_message(email).send()
            failure = None
        except Exception as error:
            failure = error
        if failure is None:
            email.status, email.sent_at, email.last_error = EmailStatus.SENT, timezone.now(), ""
        else:
            email.last_error = repr(failure)[:2000]
            email.status = EmailStatus.FAILED if email.attempts >= MAX_ATTEMPTS else EmailStatus.PENDING
        email.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if failure is not None:
        raise failure  # after commit, so the attempt is recorded; Celery retries with backoff
    return "sent"


@shared_task(
    bind=True,
    autoretry_for=(WebhookDeliveryFailed,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=WEBHOOK_MAX_ATTEMPTS - 1,
)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one webhook delivery. Idempotent: a delivered or failed one is not sent again."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        if not delivery.endpoint.is_active:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "The endpoint was disabled before delivery."
            delivery.save(update_fields=["status", "last_error"])
            return "disabled"
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        try:
            status_code, error = webhooks.post(delivery)
        except SecretUnreadable as unreadable:
            status_code, error = None, str(unreadable)
            delivery.attempts = WEBHOOK_MAX_ATTEMPTS  # retrying cannot help
        delivery.last_status_code, delivery.last_error = status_code, error
        if not error:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        elif delivery.attempts >= WEBHOOK_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        delivery.save(
            update_fields=["attempts", "last_attempt_at", "last_status_code", "last_error", "status", "delivered_at"]
        )
    if delivery.status == DeliveryStatus.PENDING:
        raise WebhookDeliveryFailed(error)  # after commit, so the attempt is recorded; Celery retries
    return delivery.status


@shared_task
def redeliver_pending(older_than_seconds: int = 120) -> int:
    """Queue again the e-mails and webhooks that never left (the broker was down when they
    were written, or a worker died between retries)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    ids = list(
        Email.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    for email_id in ids:
        queue_delivery(email_id)
    stale = Q(attempts=0) | Q(last_attempt_at__lt=now - WEBHOOK_RETRY_GRACE)
    hook_ids = list(
        WebhookDelivery.objects.filter(stale, status=DeliveryStatus.PENDING, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    for delivery_id in hook_ids:
        webhooks.queue_webhook(delivery_id)
    return len(ids) + len(hook_ids)
