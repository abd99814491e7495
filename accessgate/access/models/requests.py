"""Access requests: what a researcher asked for, what they signed, and each review's decision."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.catalog.models import LicenseVersion, Model


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
    def grant(self) -> models.Model | None:
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
