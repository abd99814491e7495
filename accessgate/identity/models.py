from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.core.transitions import Transitions, lower_label


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Started")
    PROCESSING = "processing", _("Processing")
    VERIFIED = "verified", _("Verified")
    REQUIRES_INPUT = "requires_input", _("Needs another try")
    CANCELED = "canceled", _("Canceled")
    EXPIRED = "expired", _("Expired")


_ANY = frozenset(VerificationStatus.values)

# The provider decides where a session goes and we follow it, except that an expired
# verification stays expired (a new check is a new verification).
VERIFICATION_TRANSITIONS = Transitions(
    noun=_("identity verification"),
    allowed={
        **{status: _ANY - {status} for status in VerificationStatus.values},
        VerificationStatus.EXPIRED: frozenset(),
    },
    verbs={status: lower_label(status.label) for status in VerificationStatus},
    message=_("This {noun} is {state}; start a new one instead."),
)


class VerificationQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """The one definition of a valid identity verification: verified and not yet expired."""
        return self.filter(status=VerificationStatus.VERIFIED, expires_at__gt=now or timezone.now())


class IdentityVerification(models.Model):
    """One identity check at a provider. We keep the outcome, a name and a country: never
    document images or ID numbers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="identity_verifications")
    provider = models.CharField(max_length=16)
    session_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING)
    last_error_code = models.CharField(max_length=64, blank=True)
    last_error_reason = models.TextField(blank=True)
    verified_name = models.CharField(max_length=200, blank=True)
    document_country = models.CharField(max_length=2, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    redacted_at = models.DateTimeField(null=True, blank=True)

    objects = VerificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.provider} verification {self.session_id} ({self.status})"


class WebhookEvent(models.Model):
    """Provider events already handled, so a redelivered event is ignored."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="identity_webhook_event_once")]

    def __str__(self):
        return f"{self.provider} {self.type} {self.event_id}"
