"""Access over time: a grant's history (original approval, each renewal), the reminders sent
once each, and the close-out attestation filed when a grant ends."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.core.transitions import Transitions


class GrantPeriod(models.Model):
    """One stretch of a grant: the original approval, then one row per renewal."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("Original approval")
        RENEWAL = "renewal", _("Renewal")

    grant = models.ForeignKey("access.Grant", on_delete=models.PROTECT, related_name="periods")
    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="grant_periods")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self):
        return (
            f"{self.get_kind_display()} of grant #{self.grant_id}: {self.starts_at:%Y-%m-%d} – {self.ends_at:%Y-%m-%d}"
        )


class ReminderSent(models.Model):
    """A reminder that went out. The unique key makes each one go out once, whatever re-runs."""

    class Kind(models.TextChoices):
        GRANT_EXPIRY = "grant_expiry", _("Grant expires soon")
        IDENTITY_LAPSE = "identity_lapse", _("Identity verification lapses soon")
        TRAINING_LAPSE = "training_lapse", _("Training lapses soon")
        LICENCE = "licence", _("New licence version to accept")
        CLOSEOUT = "closeout", _("Close-out due or overdue")

    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(max_length=64, help_text=_("What it is about, e.g. grant:12"))
    key = models.CharField(max_length=64, help_text=_("Which reminder of it: the day, or the licence version"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "subject", "key"], name="access_reminder_once")]

    def __str__(self):
        return f"{self.kind} {self.subject} {self.key}"


class CloseoutStatus(models.TextChoices):
    DUE = "due", _("Due")
    FILED = "filed", _("Filed")


CLOSEOUT_TRANSITIONS = Transitions(
    noun=_("close-out"),
    allowed={CloseoutStatus.DUE: frozenset({CloseoutStatus.FILED}), CloseoutStatus.FILED: frozenset()},
    verbs={CloseoutStatus.FILED: "filed"},
    message=_("This {noun} is already {state}."),
)


class Closeout(models.Model):
    """The researcher's attestation, after a grant ends, of what happened to the weights."""

    class Reason(models.TextChoices):
        EXPIRED = "expired", _("The grant expired")
        REVOKED = "revoked", _("The grant was revoked")
        ENDED = "ended", _("You ended the grant")

    grant = models.OneToOneField("access.Grant", on_delete=models.PROTECT, related_name="closeout")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="closeouts")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    status = models.CharField(max_length=8, choices=CloseoutStatus.choices, default=CloseoutStatus.DUE)
    opened_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    filed_at = models.DateTimeField(null=True, blank=True)
    deleted_everywhere = models.BooleanField(null=True)
    systems = models.TextField(blank=True, help_text=_("Every system the weights or derived copies were on"))
    remaining = models.TextField(blank=True, help_text=_("What remains, where, and why"))
    typed_name = models.CharField(max_length=200, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self):
        return f"Close-out of grant #{self.grant_id} ({self.status})"

    def is_overdue(self, now=None) -> bool:
        return self.status == CloseoutStatus.DUE and self.due_at <= (now or timezone.now())
