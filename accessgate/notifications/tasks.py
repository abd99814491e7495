import logging
import smtplib
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import webhook_delivery, webhooks
from .models import Email, EmailStatus
from .services import build_message, queue_delivery
from .webhook_delivery import WEBHOOK_BACKOFF, WEBHOOK_MAX_ATTEMPTS  # noqa: F401 (the schedule's home)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Retries due within this are queued with a countdown (with a broker); later ones, and all
# of them in eager mode, are picked up by `deliver_due_webhooks` (beat) once due.
WEBHOOK_COUNTDOWN_MAX = timedelta(minutes=15)


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


@shared_task(bind=True)
def deliver_webhook(self, delivery_id: int) -> str:
    """Try one webhook delivery once, if it is due. Idempotent: a delivered or failed one is
    not sent again, and two runs for the same attempt send it once (the claim)."""
    claim = webhook_delivery.claim(delivery_id)
    if isinstance(claim, str):
        return claim
    status, retry_in = webhook_delivery.attempt(claim)
    if retry_in is not None and retry_in <= WEBHOOK_COUNTDOWN_MAX and not self.request.is_eager:
        try:
            deliver_webhook.apply_async(args=[delivery_id], countdown=retry_in.total_seconds())
        except Exception:  # the broker is down: `deliver_due_webhooks` picks it up when due
            logger.exception("Could not schedule the retry of webhook delivery %s.", delivery_id)
    return status


@shared_task
def deliver_due_webhooks(limit: int = 200) -> int:
    """Try the pending deliveries whose next attempt is due (retries after their backoff, and
    attempts a dead worker left). Eager mode has no countdowns: this is what retries there."""
    ids = webhook_delivery.due_ids(limit=limit)
    for delivery_id in ids:
        webhooks.queue_webhook(delivery_id)
    return len(ids)


@shared_task
def redeliver_pending(older_than_seconds: int = 120) -> int:
    """Queue again the e-mails that never left (the broker was down when they were written,
    or a worker died between retries), and the webhook deliveries that are due."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    ids = list(
        Email.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    for email_id in ids:
        queue_delivery(email_id)
    return len(ids) + deliver_due_webhooks(limit=500)
