"""Grants: created on approval, revoked by a reviewer, expired by the clock, suspended while
the holder's identity has lapsed."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import AccessDenied, ValidationFailed

from ..models import GRANT_TRANSITIONS, AccessRequest, Grant, GrantStatus
from ..policy import can_review
from ._emails import email_applicant

IDENTITY_LAPSED = "identity_expired"


def grant_open(*, access_request: AccessRequest, days: int, now: datetime) -> Grant:
    """The grant row of an approved request, inside the approval's transaction. The approval
    records `grant.created` after its own event, which names the grant."""
    _end_lapsed(access_request.user, access_request.model, now)
    return Grant.objects.create(
        user=access_request.user,
        model=access_request.model,
        request=access_request,
        granted_at=now,
        expires_at=now + timedelta(days=days),
    )


def _end_lapsed(user: User, model: Model, now: datetime) -> None:
    # A grant past its expiry that the hourly job has not marked yet.
    for grant in Grant.objects.select_for_update().filter(
        user=user, model=model, status=GrantStatus.ACTIVE, expires_at__lte=now
    ):
        _expire(grant, now)


def _expire(grant: Grant, now: datetime) -> None:
    GRANT_TRANSITIONS.move(grant, GrantStatus.EXPIRED)
    grant.ended_at = now
    grant.save(update_fields=["status", "ended_at"])
    record(
        actor=None,
        action=AuditAction.GRANT_EXPIRED,
        target=grant,
        user=grant.user.email,
        model=grant.model.full_name,
        expired_at=grant.expires_at.isoformat(),
    )


@transaction.atomic
def grant_revoke(*, actor: User, grant: Grant, reason: str, meta: RequestMeta | None = None) -> Grant:
    """End a grant at once. New download URLs stop immediately."""
    grant = Grant.objects.select_for_update().select_related("model", "user", "request").get(pk=grant.pk)
    if not can_review(actor, grant.model):
        raise AccessDenied(f"You are not a reviewer of {grant.model.full_name}.")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for revoking; the researcher will see it.", field="reason")
    GRANT_TRANSITIONS.move(grant, GrantStatus.REVOKED)
    grant.ended_at = timezone.now()
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["status", "ended_at", "revoked_by", "revoke_reason"])
    record(
        actor=actor,
        action=AuditAction.GRANT_REVOKED,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        reason=reason,
    )
    email_applicant(grant.request, "grant_revoked", message=reason)
    return grant


def grant_expire_due(*, now: datetime | None = None) -> int:
    """Mark grants past their expiry as expired, one transaction (and audit event) each."""
    now = now or timezone.now()
    expired = 0
    due = Grant.objects.filter(status=GrantStatus.ACTIVE, expires_at__lte=now).values_list("pk", flat=True)
    for grant_id in list(due):
        with transaction.atomic():
            grant = (
                Grant.objects.select_for_update()
                .select_related("user", "model")
                .filter(pk=grant_id, status=GrantStatus.ACTIVE, expires_at__lte=now)
                .first()
            )
            if grant is not None:
                _expire(grant, now)
                expired += 1
    return expired


# --- identity lapses ----------------------------------------------------------------------


@transaction.atomic
def grants_suspend_for_identity(*, user: User, meta: RequestMeta | None = None) -> list[Grant]:
    """Suspend the user's active grants on models that require a verified identity."""
    suspended = []
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.ACTIVE, model__policy__require_identity=True)
        .select_related("model", "request")
    ):
        GRANT_TRANSITIONS.move(grant, GrantStatus.SUSPENDED)
        grant.suspended_reason = IDENTITY_LAPSED
        grant.save(update_fields=["status", "suspended_reason"])
        record(
            actor=None,
            action=AuditAction.GRANT_SUSPENDED,
            target=grant,
            meta=meta,
            user=user.email,
            model=grant.model.full_name,
            reason=IDENTITY_LAPSED,
        )
        suspended.append(grant)
    return suspended


@transaction.atomic
def grants_restore_after_identity(*, user: User, meta: RequestMeta | None = None) -> list[Grant]:
    """Lift identity suspensions once the user is verified again (grants past expiry stay ended)."""
    restored = []
    now = timezone.now()
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.SUSPENDED, suspended_reason=IDENTITY_LAPSED)
        .select_related("model")
    ):
        if grant.expires_at <= now:
            _expire(grant, now)
            continue
        GRANT_TRANSITIONS.move(grant, GrantStatus.ACTIVE)
        grant.suspended_reason = ""
        grant.save(update_fields=["status", "suspended_reason"])
        record(
            actor=None,
            action=AuditAction.GRANT_RESTORED,
            target=grant,
            meta=meta,
            user=user.email,
            model=grant.model.full_name,
        )
        restored.append(grant)
    return restored
