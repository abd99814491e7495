"""The one door to a grant: the only code that makes a grant usable.

Every path that gives access (review approval, automatic approval, bulk decisions, renewal,
collection, appeal, direct grant from the console, REST or HF API, reinstatement, lifting a
suspension, activating a waiting grant) ends here, inside its own transaction. The door reads
the model's whole current policy (`rules.needs.needs_for`) at that moment: a grant becomes (or
stays) active only when every rule holds; otherwise it is pending and `waiting_for` says what
is missing. A running cooldown refuses outright. tests/access/test_one_door.py fails when any
other module creates an active grant or moves one to active.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import InvalidTransition, PolicyNotMet

from ..models import GRANT_TRANSITIONS, AccessPolicy, AccessRequest, Grant, GrantPeriod, GrantStatus
from ..rules.needs import cooldown_refusal, needs_for
from ..selectors import policy_for
from ._expiry import end_lapsed


def _policy(model: Model) -> AccessPolicy:
    policy = policy_for(model)
    if policy is None:
        raise PolicyNotMet(_("%(full_name)s has no access policy.") % {"full_name": model.full_name})
    return policy


def door_needs(access_request: AccessRequest, model: Model | None = None, *, now=None) -> list[str]:
    """The labels a grant under `access_request` on `model` waits for (raises for a cooldown)."""
    policy = _policy(model or access_request.model)
    refusal = cooldown_refusal(access_request, policy, now=now)
    if refusal:
        raise refusal
    return [need.label for need in needs_for(access_request, policy)]


def grant_admit(
    *,
    access_request: AccessRequest,
    actor: User | None,
    meta: RequestMeta | None,
    now: datetime,
    model: Model | None = None,
    days: int | None = None,
    expires_at: datetime | None = None,
    on_open: Callable[[Grant], None] | None = None,
    **details,
) -> Grant:
    """Open the grant of `access_request` on `model` (default: its own), or update the one it
    already has (pending): active when the whole policy holds, otherwise pending with what it
    waits for. Records `grant.created`, `grant.activated` or `grant.waiting`; `on_open(grant)`
    runs before that event (the decision that opened the grant records itself first)."""
    model = model or access_request.model
    waiting_for = door_needs(access_request, model, now=now)
    grant = Grant.objects.select_for_update().filter(request=access_request, model=model).first()
    if grant is None:
        end_lapsed(access_request.user, model, now)
        policy = _policy(model)
        grant = Grant.objects.create(
            user=access_request.user,
            model=model,
            request=access_request,
            status=GrantStatus.PENDING if waiting_for else GrantStatus.ACTIVE,
            waiting_for=waiting_for,
            granted_at=now,
            expires_at=expires_at or now + timedelta(days=days or policy.grant_days),
        )
        GrantPeriod.objects.create(
            grant=grant,
            request=access_request,
            kind=GrantPeriod.Kind.ORIGINAL,
            starts_at=grant.granted_at,
            ends_at=grant.expires_at,
            approved_by=actor,
        )
        if on_open:
            on_open(grant)
        record(
            actor=actor,
            action=AuditAction.GRANT_CREATED,
            target=grant,
            meta=meta,
            user=access_request.user.email,
            model=model.full_name,
            request_id=access_request.pk,
            expires_at=grant.expires_at.isoformat(),
            status=grant.status,
            waiting_for=waiting_for,
            **details,
        )
        return grant
    if on_open:
        on_open(grant)
    return _settle(grant, waiting_for, actor=actor, meta=meta, **details)


def _settle(grant: Grant, waiting_for: list[str], *, actor, meta, **details) -> Grant:
    """A pending grant becomes active when nothing is missing, else records what it waits for."""
    if grant.status != GrantStatus.PENDING:
        raise InvalidTransition(
            _("This grant is %(status)s; it cannot be opened again.") % {"status": grant.get_status_display().lower()}
        )
    if waiting_for:
        if waiting_for != grant.waiting_for:
            grant.waiting_for = waiting_for
            grant.save(update_fields=["waiting_for"])
            record(
                actor=actor,
                action=AuditAction.GRANT_WAITING,
                target=grant,
                meta=meta,
                user=grant.user.email,
                model=grant.model.full_name,
                waiting_for=waiting_for,
                **details,
            )
        return grant
    GRANT_TRANSITIONS.move(grant, GrantStatus.ACTIVE)
    grant.waiting_for = []
    grant.save(update_fields=["status", "waiting_for"])
    record(
        actor=actor,
        action=AuditAction.GRANT_ACTIVATED,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        expires_at=grant.expires_at.isoformat(),
        **details,
    )
    return grant


def grant_settle(grant: Grant, *, actor: User | None, meta: RequestMeta | None, now: datetime, **details) -> Grant:
    """Look at a locked pending grant again (the researcher signed, verified, added a second
    factor, an official countersigned, a second reviewer approved)."""
    return _settle(grant, door_needs(grant.request, grant.model, now=now), actor=actor, meta=meta, **details)


def grant_reopen(
    grant: Grant, *, actor: User | None, meta: RequestMeta | None, now: datetime, action: AuditAction, **details
) -> Grant:
    """Lift a locked grant's suspension: active again when the whole current policy holds
    (records `action`: reinstated or restored); otherwise pending, saying what it waits for."""
    waiting_for = door_needs(grant.request, grant.model, now=now)
    grant.suspended_reason = ""
    grant.suspension_message = ""
    target = GrantStatus.PENDING if waiting_for else GrantStatus.ACTIVE
    GRANT_TRANSITIONS.move(grant, target)
    grant.waiting_for = waiting_for
    grant.save(update_fields=["status", "suspended_reason", "suspension_message", "waiting_for"])
    record(
        actor=actor,
        action=action if target == GrantStatus.ACTIVE else AuditAction.GRANT_WAITING,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        **({"waiting_for": waiting_for} if waiting_for else {}),
        **details,
    )
    return grant


def grant_extend(
    *, access_request: AccessRequest, days: int, now: datetime, approved_by: User | None, meta=None
) -> Grant:
    """Extend the grant a renewal renews: only when the renewal meets the whole current policy
    (an extension never waits; it is refused naming what is missing). The new period starts
    where the old one ends, so access has no gap. Records `grant.renewed`."""
    assert access_request.renews_id is not None  # a renewal names the grant it renews
    grant = Grant.objects.select_for_update().select_related("model", "user").get(pk=access_request.renews_id)
    if grant.status != GrantStatus.ACTIVE:
        raise InvalidTransition(
            _("This grant is %(status)s; it cannot be renewed.") % {"status": grant.get_status_display().lower()}
        )
    missing = door_needs(access_request, grant.model, now=now)
    if missing:
        raise PolicyNotMet(
            _("This renewal cannot extend the grant yet; it needs: %(missing)s.")
            % {"missing": "; ".join(_(label) for label in missing)}
        )
    previous = grant.expires_at
    grant.expires_at = previous + timedelta(days=days)
    grant.save(update_fields=["expires_at"])
    period = GrantPeriod.objects.create(
        grant=grant,
        request=access_request,
        kind=GrantPeriod.Kind.RENEWAL,
        starts_at=previous,
        ends_at=grant.expires_at,
        approved_by=approved_by,
    )
    record(
        actor=approved_by,
        action=AuditAction.GRANT_RENEWED,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        request_id=access_request.pk,
        period_id=period.pk,
        previous_expires_at=previous.isoformat(),
        expires_at=grant.expires_at.isoformat(),
        late=previous <= now,
    )
    return grant
