import smtplib
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .models import Email, EmailStatus
from .services import build_message, queue_delivery

MAX_ATTEMPTS = 8


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


@shared_task
def redeliver_pending(older_than_seconds: int = 120) -> int:
    """Queue again the e-mails that never left (the broker was down when they were written)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Email.objects.filter(status=EmailStatus.PENDING, created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:500]
    )
    for email_id in ids:
        queue_delivery(email_id)
    return len(ids)
