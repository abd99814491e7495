"""The reviewer's workbench records: internal notes and notification preferences."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReviewNote(models.Model):
    """An internal note on a request: reviewers and admins read it, the applicant never does."""

    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note by {self.author} on request #{self.request_id}"


class ReviewNotifications(models.TextChoices):
    EACH = "each", _("An e-mail for each new request")
    DIGEST = "digest", _("One daily digest")


class ReviewerSettings(models.Model):
    """How one reviewer hears about new requests (no row: an e-mail for each)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_settings")
    notifications = models.CharField(
        max_length=8, choices=ReviewNotifications.choices, default=ReviewNotifications.EACH
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("reviewer settings")

    def __str__(self):
        return f"{self.user}: {self.get_notifications_display()}"
