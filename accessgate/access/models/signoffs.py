"""Institutional sign-off: a signing official at the applicant's institution countersigns an
application through a single-use, expiring link before it is reviewed or approved."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.core.transitions import Transitions, lower_label


class SignoffStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the signing official")
    SIGNED = "signed", _("Countersigned")
    DECLINED = "declined", _("Declined")
    REPLACED = "replaced", _("Replaced by another official")
    VOID = "void", _("Void: the application changed after it")


SIGNOFF_TRANSITIONS = Transitions(
    noun=_("sign-off"),
    allowed={
        SignoffStatus.PENDING: frozenset(
            {SignoffStatus.SIGNED, SignoffStatus.DECLINED, SignoffStatus.REPLACED, SignoffStatus.VOID}
        ),
        # A countersignature covers the content it saw; a change of content voids it.
        SignoffStatus.SIGNED: frozenset({SignoffStatus.VOID}),
        SignoffStatus.DECLINED: frozenset(),
        SignoffStatus.REPLACED: frozenset(),
        SignoffStatus.VOID: frozenset(),
    },
    verbs={s: lower_label(s.label) for s in SignoffStatus},
    message=_("This {noun} is already {state}."),
)


class Signoff(models.Model):
    """One signing official asked to countersign one request. The link's token is stored only
    as a nonce inside a signed value; resending rotates it (the old link stops working)."""

    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="signoffs")
    agreement = models.ForeignKey("access.Agreement", on_delete=models.PROTECT, related_name="signoffs")
    official_name = models.CharField(max_length=200)
    official_email = models.EmailField()
    status = models.CharField(max_length=16, choices=SignoffStatus.choices, default=SignoffStatus.PENDING)
    nonce = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_count = models.PositiveIntegerField(default=1)
    decided_at = models.DateTimeField(null=True, blank=True)
    typed_name = models.CharField(max_length=200, blank=True)
    decline_reason = models.TextField(blank=True)
    # Frozen with the agreement: what the official countersigned, as its digest.
    agreement_sha256 = models.CharField(max_length=64, blank=True)
    # What the official read, as `rules.needs.content_digest`: a countersignature covers a
    # request only while its latest agreement has this digest.
    content_sha256 = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"], condition=models.Q(status="pending"), name="access_signoff_one_pending"
            )
        ]

    def __str__(self):
        return f"Sign-off of request #{self.request_id} by {self.official_email} ({self.status})"
