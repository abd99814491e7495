"""Renewals: within the policy's window before expiry, the holder asks to extend a grant with
a progress report and the current licence. A renewal is an access request of kind "renewal"
linked to the grant, so reviewers decide it on the same pages through the same services;
approval extends the same grant (`grants.grant_extend`)."""

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, ValidationFailed
from accessgate.core.i18n import local_date

from ..models import OPEN_STATUSES, AccessPolicy, AccessRequest, Agreement, Grant, GrantStatus, RequestKind
from ..rules.downloads import signed_under
from ..rules.requirements import Facts, evaluate
from ._applications import _sign_and_record
from ._checks import check_application, check_requirements, policy_of
from ._emails import email_applicant, email_reviewers
from .reviews import approve


def renewal_opens_at(grant: Grant, policy: AccessPolicy) -> datetime | None:
    """When the grant's renewal window opens, or None when the policy has no renewals."""
    if not policy.renewal_window_days:
        return None
    return grant.expires_at - timedelta(days=policy.renewal_window_days)


def renewal_refusal(grant: Grant, policy: AccessPolicy, *, now: datetime) -> str:
    """Why this grant cannot be renewed now ("" when it can)."""
    opens = renewal_opens_at(grant, policy)
    if opens is None:
        return _("%(model)s is not renewed; apply again when your access ends.") % {"model": grant.model.full_name}
    if grant.status != GrantStatus.ACTIVE or grant.expires_at <= now:
        return _("This grant has ended; apply again instead.")
    if now < opens:
        return _("You can renew from %(date)s (%(days)s days before it expires).") % {
            "date": local_date(opens),
            "days": policy.renewal_window_days,
        }
    if grant.renewals.filter(status__in=OPEN_STATUSES).exists():
        return _("Your renewal is already waiting for review.")
    return ""


@transaction.atomic
def renewal_submit(
    *,
    actor: User,
    grant: Grant,
    progress_report: str,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    answers: Mapping[str, Any] | None = None,
    meta: RequestMeta | None = None,
    now: datetime | None = None,
) -> AccessRequest:
    """Ask to renew a grant before it expires. Downloads continue past the expiry, up to the
    policy's grace, while this renewal is open. Auto-renewing policies approve at once when
    every requirement still holds. The custom questions' `answers` default to those last
    signed for this grant (questions added since must then be answered)."""
    meta = meta or RequestMeta()
    now = now or timezone.now()
    grant = Grant.objects.select_for_update().select_related("model", "user").get(pk=grant.pk)
    if grant.user_id != actor.pk:
        raise AccessDenied(_("Only the grant holder can renew it."))
    policy = policy_of(grant.model)
    refusal = renewal_refusal(grant, policy, now=now)
    if refusal:
        raise InvalidTransition(refusal)
    progress_report = progress_report.strip()
    if policy.renewal_requires_progress_report and not progress_report:
        raise ValidationFailed(
            _("Write a short progress report: what you did with the weights, and what comes next."),
            field="progress_report",
        )
    check_requirements(policy, actor)
    if answers is None:
        answers = _answers_signed_for(grant, policy)
    intended_use, statements, cleaned_answers = check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        answers=answers,
    )
    renewal = AccessRequest(
        user=actor,
        model=grant.model,
        kind=RequestKind.RENEWAL,
        renews=grant,
        intended_use=intended_use,
        progress_report=progress_report,
        created_at=now,
        submitted_at=now,
        renewal_grace_until=grant.expires_at + timedelta(days=policy.renewal_grace_days),
    )
    try:
        with transaction.atomic():
            renewal.save()
    except IntegrityError as error:  # another open request for this model won the race
        raise Conflict(_("You already have an open request for this model; see My access.")) from error
    _sign_and_record(
        actor=actor,
        access_request=renewal,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        action=AuditAction.ACCESS_RENEWAL_SUBMITTED,
        answers=cleaned_answers,
        grant_id=grant.pk,
        expires_at=grant.expires_at.isoformat(),
        # Ignored: a submitted renewal has its grace end.
        grace_until=renewal.renewal_grace_until.isoformat(),  # type: ignore[union-attr]
        progress_report=progress_report,
    )
    if policy.renewal_auto and all(r.met for r in evaluate(policy, Facts(actor))):
        approve(renewal, reviewer=None, message="", meta=meta)
    else:
        email_applicant(renewal, "request_received")
        email_reviewers(renewal, resubmitted=False)
    return renewal


def _answers_signed_for(grant: Grant, policy: AccessPolicy) -> dict[str, Any]:
    """The custom answers last signed under this grant, for the questions the form still asks."""
    agreement = Agreement.objects.filter(signed_under(grant)).order_by("-signed_at", "-id").first()
    asked = set(policy.form_fields.filter(is_active=True).values_list("key", flat=True))
    signed = agreement.answers if agreement is not None else []
    return {answer["key"]: answer["value"] for answer in signed or [] if answer.get("key") in asked}
