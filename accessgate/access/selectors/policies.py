"""A model's policy, its statements, and when a rejected applicant may apply again."""

from datetime import datetime, timedelta

from django.utils import timezone

from accessgate.catalog.models import Model

from ..models import (
    AccessPolicy,
    AccessRequest,
    RequestStatus,
)


def policy_for(model: Model) -> AccessPolicy | None:
    return AccessPolicy.objects.filter(model=model).select_related("license", "model").first()


def active_statements(policy: AccessPolicy):
    return policy.statements.filter(is_active=True)


def reapply_after(user, model: Model, *, now: datetime | None = None) -> datetime | None:
    """When a rejected applicant may apply for `model` again, if that is still in the future."""
    policy = policy_for(model)
    if policy is None or not policy.reapply_cooldown_days:
        return None
    rejected = (
        AccessRequest.objects.filter(user=user, model=model, status=RequestStatus.REJECTED, decided_at__isnull=False)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    if rejected is None:
        return None
    until = rejected + timedelta(days=policy.reapply_cooldown_days)
    return until if until > (now or timezone.now()) else None
