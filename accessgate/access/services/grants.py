"""Grants: created on approval (pending while requirements are missing, under a policy that
lets them be completed after approval), revoked by a reviewer, expired by the clock,
suspended (`grant_suspend_locked`: identity or training lapsed, or by hand), reinstated by hand."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, InvalidTransition, PolicyNotMet, ValidationFailed

from ..models import (
    GRANT_TRANSITIONS,
    OPEN_STATUSES,
    REQUEST_TRANSITIONS,
    Closeout,
    Grant,
    GrantStatus,
    RequestStatus,
    SuspensionReason,
)
from ..rules.staff import can_review
from ._emails import email_applicant
from ._expiry import _expire, end_lapsed  # noqa: F401 (end_lapsed: part of this life cycle)
from .closeouts import closeout_open
from .door import grant_reopen, grant_settle


@transaction.atomic
def grant_revoke(*, actor: User, grant: Grant, reason: str, meta: RequestMeta | None = None) -> Grant:
    """End a grant at once. New download URLs stop immediately."""
    grant, reason = _reviewed_grant(
        actor, grant, reason, missing=_("Give a reason for revoking; the researcher will see it.")
    )
    revoke_locked(grant, actor=actor, reason=reason, meta=meta)
    email_applicant(grant.request, "grant_revoked", message=reason)
    return grant


def revoke_locked(grant: Grant, *, actor: User, reason: str, meta: RequestMeta | None) -> None:
    """End a grant the caller has locked and may revoke, record `grant.revoked` and open its
    close-out; the one revocation step of `grant_revoke` and of returning a request to
    pending (the callers say what the researcher is told)."""
    GRANT_TRANSITIONS.move(grant, GrantStatus.REVOKED)
    grant.waiting_for = []
    grant.ended_at = timezone.now()
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["status", "waiting_for", "ended_at", "revoked_by", "revoke_reason"])
    record(
        actor=actor,
        action=AuditAction.GRANT_REVOKED,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        reason=reason,
    )
    closeout_open(grant=grant, reason=Closeout.Reason.REVOKED, now=grant.ended_at)


@transaction.atomic
def grant_end(*, actor: User, grant: Grant, meta: RequestMeta | None = None) -> Grant:
    """The holder ends their own grant ("End my access"). New download URLs stop at once."""
    grant = Grant.objects.select_for_update().select_related("model", "user", "request").get(pk=grant.pk)
    if grant.user_id != actor.pk:
        raise AccessDenied(_("Only the grant holder can end this grant."))
    now = timezone.now()
    if grant.status == GrantStatus.ACTIVE and not Grant.objects.active(now=now).filter(pk=grant.pk).exists():
        _expire(grant, now)  # already past its expiry: it ended by itself
        return grant
    GRANT_TRANSITIONS.move(grant, GrantStatus.ENDED)
    grant.ended_at = now
    grant.save(update_fields=["status", "ended_at"])
    record(actor=actor, action=AuditAction.GRANT_ENDED, target=grant, meta=meta, model=grant.model.full_name)
    for renewal in grant.renewals.filter(status__in=OPEN_STATUSES):
        REQUEST_TRANSITIONS.move(renewal, RequestStatus.WITHDRAWN)
        renewal.decided_at = now
        renewal.save(update_fields=["status", "decided_at"])
        record(
            actor=actor,
            action=AuditAction.ACCESS_REQUEST_WITHDRAWN,
            target=renewal,
            meta=meta,
            model=grant.model.full_name,
        )
    closeout_open(grant=grant, reason=Closeout.Reason.ENDED, now=now)
    return grant


def grant_expire_due(*, now: datetime | None = None) -> int:
    """Mark grants past their expiry as expired, one transaction (and audit event) each."""
    now = now or timezone.now()
    expired = 0
    running = [GrantStatus.ACTIVE, GrantStatus.PENDING]
    in_effect = Grant.objects.active(now=now).values("pk")  # a pending renewal's grace
    due = (
        Grant.objects.filter(status__in=running, expires_at__lte=now)
        .exclude(pk__in=in_effect)
        .values_list("pk", flat=True)
    )
    for grant_id in list(due):
        with transaction.atomic():
            grant = (
                Grant.objects.select_for_update()
                .select_related("user", "model")
                .filter(pk=grant_id, status__in=running, expires_at__lte=now)
                .exclude(pk__in=in_effect)
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
        grant_suspend_locked(grant, holder=user, reason=SuspensionReason.IDENTITY_EXPIRED, actor=None, meta=meta)
        suspended.append(grant)
    return suspended


@transaction.atomic
def grants_restore_after_identity(*, user: User, meta: RequestMeta | None = None) -> list[Grant]:
    """Lift identity suspensions once the user is verified again (grants past expiry stay ended)."""
    restored = []
    now = timezone.now()
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.SUSPENDED, suspended_reason=SuspensionReason.IDENTITY_EXPIRED)
        .select_related("model")
    ):
        if grant.expires_at <= now:
            _expire(grant, now)
            continue
        grant = grant_reopen(grant, actor=None, meta=meta, now=now, action=AuditAction.GRANT_RESTORED)
        if grant.status == GrantStatus.ACTIVE:
            restored.append(grant)
    return restored


# --- pending grants, and suspensions by hand -------------------------------------------------


@transaction.atomic
def grants_activate_ready(*, user: User, meta: RequestMeta | None = None) -> list[Grant]:
    """Activate the user's pending grants whose requirements all hold now (e-mailing each),
    and refresh what the others still wait for. Called when the user verifies an identity,
    adds a second factor or an e-mail, opens My access, and by a periodic task."""
    activated = []
    now = timezone.now()
    for grant in (
        # Lock only the grant rows: the policy is joined from the nullable side.
        Grant.objects.select_for_update(of=("self",))
        .filter(user=user, status=GrantStatus.PENDING)
        .select_related("model__policy", "request", "user")
    ):
        if grant.expires_at <= now:
            _expire(grant, now)
            continue
        try:
            grant = grant_settle(grant, actor=None, meta=meta, now=now)
        except PolicyNotMet:
            continue  # a cooldown started since: the grant stays pending
        if grant.status == GrantStatus.ACTIVE:
            email_applicant(grant.request, "grant_activated", expires_at=grant.expires_at)
            activated.append(grant)
    return activated


def grants_activate_all_ready() -> int:
    """The periodic sweep: every user with a pending grant, one transaction each."""
    users = User.objects.filter(grants__status=GrantStatus.PENDING).distinct()
    return sum(len(grants_activate_ready(user=user)) for user in users)


def _reviewed_grant(actor: User, grant: Grant, reason: str, *, missing: str) -> tuple[Grant, str]:
    grant = Grant.objects.select_for_update().select_related("model", "user", "request").get(pk=grant.pk)
    if not can_review(actor, grant.model):
        raise AccessDenied(_("You are not a reviewer of %(full_name)s.") % {"full_name": grant.model.full_name})
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(missing, field="reason")
    return grant, reason


def grant_suspend_locked(
    grant: Grant,
    *,
    holder: User,
    reason: SuspensionReason,
    actor: User | None,
    meta: RequestMeta | None = None,
    message: str = "",
    **details,
) -> None:
    """The one way a grant is suspended: move the locked `grant` (of `holder`) to suspended for
    `reason` and record `grant.suspended` in the caller's transaction. `message`, when given,
    is shown to the researcher; `details` are added to the event."""
    GRANT_TRANSITIONS.move(grant, GrantStatus.SUSPENDED)
    grant.suspended_reason = reason
    fields = ["status", "suspended_reason"]
    if message:
        grant.suspension_message = message
        fields.append("suspension_message")
        details = {"message": message, **details}
    grant.save(update_fields=fields)
    record(
        actor=actor,
        action=AuditAction.GRANT_SUSPENDED,
        target=grant,
        meta=meta,
        user=holder.email,
        model=grant.model.full_name,
        reason=str(reason),
        **details,
    )


@transaction.atomic
def grant_suspend(*, actor: User, grant: Grant, reason: str, meta: RequestMeta | None = None) -> Grant:
    """Stop an active grant's downloads until a reviewer reinstates it; the reason is shown."""
    grant, reason = _reviewed_grant(
        actor, grant, reason, missing=_("Give a reason for the suspension; the researcher will see it.")
    )
    grant_suspend_locked(
        grant, holder=grant.user, reason=SuspensionReason.BY_HAND, actor=actor, meta=meta, message=reason
    )
    email_applicant(grant.request, "grant_suspended", message=reason)
    return grant


@transaction.atomic
def grant_reinstate(*, actor: User, grant: Grant, reason: str, meta: RequestMeta | None = None) -> Grant:
    """Lift a suspension made by hand (an identity suspension lifts when the holder verifies)."""
    grant, reason = _reviewed_grant(actor, grant, reason, missing=_("Say why the grant is reinstated."))
    if grant.status == GrantStatus.SUSPENDED and grant.suspended_reason == SuspensionReason.IDENTITY_EXPIRED:
        raise InvalidTransition(_("This grant is suspended until its holder verifies their identity again."))
    now = timezone.now()
    if grant.status == GrantStatus.SUSPENDED and grant.expires_at <= now:
        raise InvalidTransition(_("This grant has expired; the researcher must apply again."))
    if grant.status == GrantStatus.PENDING:
        raise InvalidTransition(
            _("This grant is not suspended; it waits for: %(waiting)s.")
            % {"waiting": ", ".join(_(label) for label in grant.waiting_for)}
        )
    if grant.status != GrantStatus.SUSPENDED:
        GRANT_TRANSITIONS.check(grant.status, GrantStatus.ACTIVE, state=grant.get_status_display().lower())
    grant = grant_reopen(grant, actor=actor, meta=meta, now=now, action=AuditAction.GRANT_REINSTATED, reason=reason)
    email_applicant(grant.request, "grant_reinstated", message=reason)
    return grant
