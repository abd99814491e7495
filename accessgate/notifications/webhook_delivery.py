"""The webhook outbox's state changes around one attempt, with no transaction or row lock
held while the receiver is called: `claim` (a short transaction: count the attempt and
lease the row), the POST (`sending.post`, outside any transaction), then `attempt` records
the outcome in another short transaction and sets the next attempt on `WEBHOOK_BACKOFF`.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import sending, webhook_crypto
from .models import DeliveryStatus, WebhookDelivery

# The wait after each failed attempt: 8 attempts over about 10.5 hours, so a receiver that
# is down for a deploy or an afternoon still gets the event.
WEBHOOK_BACKOFF = [
    timedelta(seconds=10),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
]
WEBHOOK_MAX_ATTEMPTS = len(WEBHOOK_BACKOFF) + 1
# A claimed attempt not recorded this long after its deadline is taken as lost (the worker
# died mid-call) and may be tried again.
LEASE_MARGIN = timedelta(seconds=60)


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    attempt: int
    url: str
    secret_encrypted: str
    body: str
    webhook_id: str


def claim(delivery_id: int) -> Claim | str:
    """Take the delivery's next attempt, or say why not ("skipped", "not due", "disabled")."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("endpoint")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"  # gone, finished, or being claimed by another run right now
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "not due"
        if not delivery.endpoint.is_active:
            delivery.status, delivery.last_error = DeliveryStatus.FAILED, "The endpoint was disabled before delivery."
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "last_error", "next_attempt_at"])
            return "disabled"
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.next_attempt_at = now + timedelta(seconds=settings.ACCESSGATE_WEBHOOK_TIMEOUT) + LEASE_MARGIN
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return Claim(
            delivery_id=delivery.pk,
            attempt=delivery.attempts,
            url=delivery.endpoint.url,
            secret_encrypted=delivery.endpoint.secret_encrypted,
            body=delivery.body,
            webhook_id=str(delivery.uuid),
        )


def attempt(claimed: Claim) -> tuple[str, timedelta | None]:
    """POST a claimed attempt and record it. Returns the delivery's status and, when it is
    to be tried again, the wait before that."""
    final = False
    try:
        secret = webhook_crypto.decrypt_secret(claimed.secret_encrypted)
    except webhook_crypto.SecretUnreadable as unreadable:
        status_code, error, final = None, str(unreadable), True  # retrying cannot help
    else:
        status_code, error = sending.post(
            url=claimed.url, secret=secret, body=claimed.body.encode(), webhook_id=claimed.webhook_id
        )
    now = timezone.now()
    changes: dict[str, object] = {"last_status_code": status_code, "last_error": error, "next_attempt_at": None}
    retry_in = None
    if not error:
        changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif final or claimed.attempt >= WEBHOOK_MAX_ATTEMPTS:
        changes.update(status=DeliveryStatus.FAILED)
    else:
        retry_in = WEBHOOK_BACKOFF[claimed.attempt - 1]
        changes.update(next_attempt_at=now + retry_in)
    with transaction.atomic():
        # Only the attempt this run claimed: a lease taken over by another run is theirs.
        recorded = WebhookDelivery.objects.filter(
            pk=claimed.delivery_id, attempts=claimed.attempt, status=DeliveryStatus.PENDING
        ).update(**changes)
    if not recorded:
        return "superseded", None
    return str(changes.get("status", DeliveryStatus.PENDING)), retry_in


def due_ids(*, limit: int, now=None) -> list[int]:
    """Pending deliveries that may be tried now: their backoff is over (or their lease ran
    out), or they never left (the broker was down after commit) and are two minutes old."""
    now = now or timezone.now()
    due = Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=now - timedelta(minutes=2))
    return list(
        WebhookDelivery.objects.filter(due, status=DeliveryStatus.PENDING)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
