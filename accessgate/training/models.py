"""Trainings an access policy can require: a certificate a reviewer checks, or a short quiz."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.core.transitions import Transitions, lower_label


class TrainingKind(models.TextChoices):
    CERTIFICATE = "certificate", _("Certificate (PDF) checked by a reviewer")
    QUIZ = "quiz", _("Quiz")


class Training(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, help_text=_("What to complete, and where (for certificates)."))
    kind = models.CharField(max_length=16, choices=TrainingKind.choices)
    validity_days = models.PositiveIntegerField(default=365)
    # xgettext:no-python-format
    pass_mark = models.PositiveIntegerField(_("pass mark (% of questions right)"), default=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(validity_days__gte=1), name="training_validity_positive"),
            models.CheckConstraint(condition=Q(pass_mark__lte=100), name="training_pass_mark_percent"),
        ]

    def __str__(self):
        return self.name


class Question(models.Model):
    training = models.ForeignKey(Training, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField(default=0)
    text = models.TextField()
    choices = models.JSONField(help_text=_('The answers shown, e.g. ["Yes", "No", "Only with approval"]'))
    correct = models.PositiveIntegerField(help_text=_("Index of the right answer (0 = the first)."))

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.text[:80]


class RecordStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a reviewer")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Not passed")
    REJECTED = "rejected", _("Certificate rejected")
    EXPIRED = "expired", _("Expired")


RECORD_TRANSITIONS = Transitions(
    noun=_("training record"),
    allowed={
        RecordStatus.PENDING: frozenset({RecordStatus.PASSED, RecordStatus.REJECTED}),
        RecordStatus.PASSED: frozenset({RecordStatus.EXPIRED}),
        RecordStatus.FAILED: frozenset(),
        RecordStatus.REJECTED: frozenset(),
        RecordStatus.EXPIRED: frozenset(),
    },
    verbs={s: lower_label(s.label) for s in RecordStatus},
    message=_("This {noun} is already {state}."),
)


class RecordQuerySet(models.QuerySet):
    def valid(self, *, now=None):
        """The one definition of a valid training: passed and not yet expired."""
        return self.filter(status=RecordStatus.PASSED, expires_at__gt=now or timezone.now())


class TrainingRecord(models.Model):
    """One attempt: a quiz taken, or a certificate uploaded (and checked)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    training = models.ForeignKey(Training, on_delete=models.PROTECT, related_name="records")
    status = models.CharField(max_length=16, choices=RecordStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    # xgettext:no-python-format
    score = models.PositiveIntegerField(null=True, blank=True, help_text=_("Quiz: % right"))
    certificate_key = models.CharField(max_length=300, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    certificate_name = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.training} for {self.user} ({self.status})"
