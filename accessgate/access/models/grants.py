"""Grants: a researcher's access to one model, its status and why it is suspended."""

from datetime import datetime
from typing import cast

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.catalog.models import Model

from .requests import OPEN_STATUSES, AccessRequest


class GrantStatus(models.TextChoices):
    PENDING = "pending", _("Approved, waiting for requirements")  # active the moment they hold
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended by the holder")


class SuspensionReason(models.TextChoices):
    """Why a grant is suspended (`Grant.suspended_reason`); the values are stored and audited."""

    IDENTITY_EXPIRED = "identity_expired"
    TRAINING_EXPIRED = "training_expired"
    BY_HAND = "by_hand"


def _active_grant_q(now=None) -> Q:
    # The one definition of an active grant: marked active and not yet past its expiry, or
    # past it by less than the grace of a renewal submitted in time and still open.
    now = now or timezone.now()
    in_grace = models.Exists(
        AccessRequest.objects.filter(
            renews=models.OuterRef("pk"), status__in=OPEN_STATUSES, renewal_grace_until__gt=now
        )
    )
    # Q | Exists is a Q at run time; the stubs type Q's operators for Q operands only.
    return cast(Q, Q(status=GrantStatus.ACTIVE) & (Q(expires_at__gt=now) | in_grace))


class GrantQuerySet(models.QuerySet["Grant"]):
    def active(self, *, now: datetime | None = None) -> "GrantQuerySet":
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
