"""Decisions beside the reviews: a reviewer's recusal, an applicant's appeal, a reviewer assigned
to one request, an escalation of a request nobody can decide."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Recusal(models.Model):
    """A reviewer stepping aside from one request; they can no longer decide it."""

    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="recusals")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recusals")
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="access_recusal_once_per_reviewer"),
        ]

    def __str__(self):
        return f"{self.reviewer} recused from request #{self.request_id}"


class AppealOutcome(models.TextChoices):
    PENDING = "pending", _("Under review")
    GRANTED = "granted", _("Granted: the request is approved")
    DENIED = "denied", _("Denied: the rejection stands")


class Appeal(models.Model):
    """The one appeal a rejected applicant may make; decided by someone who did not reject."""

    request = models.OneToOneField("access.AccessRequest", on_delete=models.PROTECT, related_name="appeal")
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=8, choices=AppealOutcome.choices, default=AppealOutcome.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_message = models.TextField(blank=True)

    def __str__(self):
        return f"Appeal of request #{self.request_id} ({self.get_outcome_display()})"


class RequestReviewer(models.Model):
    """A reviewer an admin assigned to ONE request from outside the model's reviewers: they see
    and may decide that request only."""

    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="extra_reviewers")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="extra_reviews")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reviewer"], name="access_request_reviewer_once"),
        ]

    def __str__(self):
        return f"{self.reviewer} on request #{self.request_id}"


class EscalationReason(models.TextChoices):
    NO_ELIGIBLE_REVIEWER = "no_eligible_reviewer", _("no eligible reviewer left")
    TOO_FEW_REVIEWERS = "too_few_reviewers", _("fewer eligible reviewers than approvals needed")
    OVERDUE = "overdue", _("past the review target")


class Escalation(models.Model):
    """A stuck or overdue request escalated to the model's admins: once per reason and
    submission (`round`: the request's `submitted_at` when it was escalated)."""

    request = models.ForeignKey("access.AccessRequest", on_delete=models.PROTECT, related_name="escalations")
    reason = models.CharField(max_length=32, choices=EscalationReason.choices)
    round = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["request", "reason", "round"], name="access_escalation_once"),
        ]

    def __str__(self):
        return f"Request #{self.request_id} escalated: {self.reason}"
