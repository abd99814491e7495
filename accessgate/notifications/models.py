import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Email(models.Model):
    """An outgoing e-mail, written in the same transaction as the change it announces.

    A Celery task sends it after commit; if the broker was down, the periodic
    `redeliver_pending` task picks it up later, so no message is lost.
    """

    to = models.JSONField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.subject} → {', '.join(self.to)}"


class WebhookEndpoint(models.Model):
    """An admin-registered URL that receives signed JSON for access events.

    Changed only through the audited services in `notifications/services.py`. The signing
    secret is kept encrypted (`webhook_crypto`); the admin sees it once, when it is made.
    """

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # One model, or every model when empty. A string reference: notifications sits below
    # catalog and imports nothing from it.
    model = models.ForeignKey(
        "catalog.Model", null=True, blank=True, on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    events = models.JSONField(default=list)  # audit action names, see webhooks.WEBHOOK_EVENTS
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(max_length=16)  # the secret's last characters, to tell them apart
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by_label = models.CharField(max_length=320)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        scope = self.model.full_name if self.model_id else "all models"
        return f"{self.url} ({scope})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the webhook outbox.

    Written in the transaction of the audited change (so a rolled-back change sends
    nothing), sent by a Celery task after commit, retried on the `tasks.WEBHOOK_BACKOFF`
    schedule (`next_attempt_at`); `uuid` is the
    `Webhook-Id` header, the same on every automatic retry. A redelivery is a new row
    (`redelivery_of`) with the same body.
    """

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    # No database constraint: a foreign key would hang referential-integrity triggers on the
    # append-only audit table (and make TRUNCATE fail for the wrong reason). Events are never
    # deleted, so the reference cannot dangle.
    event = models.ForeignKey("audit.AuditEvent", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    event_type = models.CharField(max_length=64)
    body = models.TextField()  # the exact JSON bytes (UTF-8) that are signed and sent
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a pending delivery may be tried next: empty for a new one (sent after commit), the
    # backoff moment after a failed attempt, and, while an attempt is under way, the moment
    # after which it counts as lost (a worker died) and may be tried again.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.event_type} → {self.endpoint.url} ({self.status})"
