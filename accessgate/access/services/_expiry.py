"""Ending a grant by the clock (private to the package): the expiry step that the grant life
cycle, the door and the training suspensions share."""

from datetime import datetime

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.services import record
from accessgate.catalog.models import Model

from ..models import GRANT_TRANSITIONS, Closeout, Grant, GrantStatus
from .closeouts import closeout_open


def end_lapsed(user: User, model: Model, now: datetime) -> None:
    # A grant past its expiry (and any renewal grace) that the hourly job has not marked yet.
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, model=model, status=GrantStatus.ACTIVE, expires_at__lte=now)
        .exclude(pk__in=Grant.objects.active(now=now).values("pk"))
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
    closeout_open(grant=grant, reason=Closeout.Reason.EXPIRED, now=now)
