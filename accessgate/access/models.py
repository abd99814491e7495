import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.catalog.models import LicenseVersion, Model

from .formfields import FormField  # noqa: F401 (a model of this app, defined beside its rules)
from .freemail import default_denied_domains


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
    # Access over time (reminders, renewal, close-out): see `models_over_time.py` and README.
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


class RequestKind(models.TextChoices):
    APPLICATION = "application", _("Application")
    RENEWAL = "renewal", _("Renewal")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    APPEALED = "appealed", _("Rejected; appeal under review")


OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.CHANGES_REQUESTED)


class AccessRequest(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests")
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="access_requests")
    status = models.CharField(max_length=24, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED)
    intended_use = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(_("last submitted"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True, db_index=True)
    reviewer_message = models.TextField(_("latest message to the applicant"), blank=True)
    # A renewal is a request of kind "renewal" linked to the grant it extends; it is reviewed
    # on the same pages and approved by the same service, which extends that grant.
    kind = models.CharField(max_length=16, choices=RequestKind.choices, default=RequestKind.APPLICATION)
    renews = models.ForeignKey("access.Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals")
    progress_report = models.TextField(blank=True)
    renewal_grace_until = models.DateTimeField(
        null=True, blank=True, help_text=_("While this renewal is open, the grant stays in effect until then.")
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_requests"
    )
    review_due_at = models.DateTimeField(null=True, blank=True, help_text=_("From the policy's review target."))
    collection = models.ForeignKey(
        "access.Collection", null=True, blank=True, on_delete=models.PROTECT, related_name="requests"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A researcher has at most one open request per model, even under races.
            models.UniqueConstraint(
                fields=["user", "model"],
                condition=Q(status__in=["submitted", "changes_requested"]),
                name="access_request_one_open_per_model",
            ),
        ]

    def __str__(self):
        return f"Request #{self.pk} by {self.user} for {self.model}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def grant(self) -> "Grant | None":
        """The grant on the request's own model (a collection request has one per member)."""
        return next((g for g in self.grants.all() if g.model_id == self.model_id), None)


class Agreement(models.Model):
    """Exactly what the applicant signed, frozen: one row per (re)submission."""

    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="agreements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements")
    license = models.ForeignKey(LicenseVersion, on_delete=models.PROTECT, related_name="agreements")
    license_sha256 = models.CharField(max_length=64)
    attestations = models.JSONField(help_text=_("[{'text': …, 'sha256': …}] as shown and ticked"))
    answers = models.JSONField(
        default=list, blank=True, help_text=_("[{'key', 'label', 'kind', 'field_sha256', 'value'}] as answered")
    )
    answers_sha256 = models.CharField(max_length=64, blank=True)
    intended_use = models.TextField()
    typed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self):
        return f"Agreement #{self.pk} ({self.license})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("A signed agreement cannot change.")
        super().save(*args, **kwargs)


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")


class Review(models.Model):
    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="reviews"
    )
    decision = models.CharField(max_length=24, choices=Decision.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.reviewer or 'automatic approval'}"


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Approved, waiting for requirements")  # active the moment they hold
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended by the holder")


def _active_grant_q(now=None) -> Q:
    # The one definition of an active grant: marked active and not yet past its expiry, or
    # past it by less than the grace of a renewal submitted in time and still open.
    now = now or timezone.now()
    in_grace = models.Exists(
        AccessRequest.objects.filter(
            renews=models.OuterRef("pk"), status__in=OPEN_STATUSES, renewal_grace_until__gt=now
        )
    )
    return Q(status=GrantStatus.ACTIVE) & (Q(expires_at__gt=now) | in_grace)


class GrantQuerySet(models.QuerySet):
    def active(self, *, now=None):
        return self.filter(_active_grant_q(now))

    def with_is_active(self, *, now=None):
        """Annotate `is_active` (for display) from the same definition as `active()`."""
        return self.annotate(
            is_active=models.ExpressionWrapper(_active_grant_q(now), output_field=models.BooleanField())
        )


class Grant(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grants")
    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="grants")
    # One request opens one grant per model: its own, or each member of its collection.
    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="grants")
    status = models.CharField(max_length=16, choices=GrantStatus.choices, default=GrantStatus.ACTIVE)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    suspended_reason = models.CharField(max_length=64, blank=True)
    suspension_message = models.TextField(_("reason shown to the researcher"), blank=True)
    waiting_for = models.JSONField(default=list, blank=True, help_text=_("Labels of the requirements still missing."))

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "model"],
                condition=Q(status="active"),
                name="access_grant_one_active_per_model",
            ),
            models.UniqueConstraint(
                fields=["user", "model"],
                condition=Q(status="pending"),
                name="access_grant_one_pending_per_model",
            ),
            models.UniqueConstraint(fields=["request", "model"], name="access_grant_one_per_request_model"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("granted_at")), name="access_grant_expires_after_start"
            ),
        ]

    def __str__(self):
        return f"Grant #{self.pk}: {self.user} → {self.model}"


from .collection_models import Collection  # noqa: E402, F401 (models in their own modules, registered here)
from .decision_models import Appeal, AppealOutcome, Recusal  # noqa: E402, F401
from .models_over_time import Closeout, CloseoutStatus, GrantPeriod, ReminderSent  # noqa: E402, F401
from .models_signoff import Signoff, SignoffStatus  # noqa: E402, F401
from .rollup_models import DownloadDay, DownloadDayBuilt, DownloadUserDay  # noqa: E402, F401
from .status_moves import GRANT_TRANSITIONS, REQUEST_TRANSITIONS  # noqa: E402, F401
from .workbench_models import ReviewerSettings, ReviewNote, ReviewNotifications  # noqa: E402, F401
