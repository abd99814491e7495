"""A model's access policy: how requests are decided and what must hold, and the statements an
applicant ticks."""

import hashlib

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accessgate.catalog.models import LicenseVersion, Model

from ..freemail import default_denied_domains


def default_reminder_days() -> list[int]:
    return [30, 7, 1]


class Gating(models.TextChoices):
    AUTO = "auto", _("Automatic: approved at once when every requirement holds")
    MANUAL = "manual", _("Manual: a reviewer approves each request")


class RequirementTiming(models.TextChoices):
    BEFORE = "before", _("Before approval: Approve is refused until every requirement holds")
    AFTER = "after", _("May be completed after approval: the grant waits for them")


class AccessPolicy(models.Model):
    """The rules for getting one model's weights."""

    model = models.OneToOneField(Model, on_delete=models.CASCADE, related_name="policy")
    gating = models.CharField(max_length=16, choices=Gating.choices, default=Gating.MANUAL)
    license = models.ForeignKey(LicenseVersion, on_delete=models.PROTECT, related_name="policies")
    min_intended_use_chars = models.PositiveIntegerField(_("minimum length of the intended-use statement"), default=100)
    grant_days = models.PositiveIntegerField(_("grant length in days"), default=365)
    url_ttl_seconds = models.PositiveIntegerField(
        _("download URL lifetime (seconds)"),
        default=300,
        help_text=_("Short on purpose: revoking a grant stops new URLs at once, issued ones die at this age."),
    )
    max_downloads_per_file = models.PositiveIntegerField(
        _("download URLs per file per grant"),
        null=True,
        blank=True,
        help_text=_("Empty for no limit."),
    )
    require_identity = models.BooleanField(_("require a verified identity"), default=False)
    require_mfa = models.BooleanField(_("require two-factor authentication"), default=False)
    require_orcid = models.BooleanField(_("require a verified ORCID iD"), default=False)
    require_institutional_email = models.BooleanField(_("require a verified institutional e-mail"), default=False)
    institutional_domains = models.JSONField(
        default=list, blank=True, help_text=_("Allowed e-mail domains (subdomains match); empty: any not denied.")
    )
    denied_email_domains = models.JSONField(
        default=default_denied_domains, blank=True, help_text=_("Never institutional (ships with free-mail domains).")
    )
    blocked_countries = models.JSONField(
        default=list, blank=True, help_text=_("ISO 3166 codes; matched against the profile and the identity document.")
    )
    # Access over time (reminders, renewal, close-out): see `over_time.py` and docs/access-over-time.md.
    reminder_days = models.JSONField(
        _("expiry reminders (days before)"), default=default_reminder_days, blank=True, help_text=_("e.g. [30, 7, 1]")
    )
    renewal_window_days = models.PositiveIntegerField(
        _("renewal window (days before expiry)"), default=30, help_text=_("0: no renewal; holders apply again.")
    )
    renewal_requires_progress_report = models.BooleanField(_("a renewal needs a progress report"), default=True)
    renewal_auto = models.BooleanField(_("renew automatically when every requirement still holds"), default=False)
    renewal_grace_days = models.PositiveIntegerField(
        _("downloads continue this many days past expiry while a timely renewal is pending"), default=14
    )
    require_closeout = models.BooleanField(_("a close-out attestation when a grant ends"), default=False)
    closeout_days = models.PositiveIntegerField(_("days to file the close-out"), default=30)
    closeout_blocks_requests = models.BooleanField(
        _("refuse applications from researchers with an overdue close-out"), default=False
    )
    require_signoff = models.BooleanField(_("require a signing official's countersignature"), default=False)
    signoff_domains = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The official's e-mail domains (subdomains match); empty: any not denied."),
    )
    signoff_link_days = models.PositiveIntegerField(_("days a sign-off link stays valid"), default=14)
    require_training = models.BooleanField(_("require completed trainings"), default=False, editable=False)
    required_trainings = models.ManyToManyField("training.Training", blank=True, related_name="policies")
    requirements_timing = models.CharField(
        _("hard requirements"),
        max_length=8,
        choices=RequirementTiming.choices,
        default=RequirementTiming.BEFORE,
    )
    approvals_required = models.PositiveSmallIntegerField(
        _("approvals required"),
        choices=[(1, _("One reviewer")), (2, _("Two distinct reviewers"))],
        default=1,
    )
    conflict_blocks = models.BooleanField(
        _("a conflict of interest blocks the reviewer"),
        default=False,
        help_text=_(
            "Shared institution or e-mail domain: off, the review page flags it; on, that reviewer cannot decide."
        ),
    )
    review_target_days = models.PositiveIntegerField(
        _("review target in days"), null=True, blank=True, help_text=_("The queue marks older requests overdue.")
    )
    notification_email = models.EmailField(
        _("notification address"), blank=True, help_text=_("Also told of each new request (a team list, say).")
    )
    reapply_cooldown_days = models.PositiveIntegerField(
        _("days before a rejected applicant may apply again"), default=0
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("access policies")
        constraints = [
            models.CheckConstraint(condition=Q(grant_days__gte=1), name="access_policy_grant_days_positive"),
            models.CheckConstraint(condition=Q(url_ttl_seconds__gte=1), name="access_policy_url_ttl_positive"),
            models.CheckConstraint(
                condition=Q(approvals_required__in=[1, 2]), name="access_policy_approvals_one_or_two"
            ),
        ]

    def __str__(self):
        return f"Policy for {self.model.full_name}"


class AttestationStatement(models.Model):
    """A statement an applicant must tick. Its text never changes; retire it and add a new one."""

    policy = models.ForeignKey(AccessPolicy, on_delete=models.CASCADE, related_name="statements")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField()
    sha256 = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text[:80]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            original = AttestationStatement.objects.get(pk=self.pk)
            if original.text != self.text:
                raise TypeError("An attestation's text cannot change; retire it and add a new statement.")
        self.sha256 = hashlib.sha256(self.text.encode()).hexdigest()
        super().save(*args, **kwargs)
