from django.db import models
from django.utils import timezone


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


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
