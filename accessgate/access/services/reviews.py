"""Review decisions: approve (which opens a grant, or records one of two approvals), reject,
ask for changes, recuse."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import Conflict, InvalidTransition, PolicyNotMet, ValidationFailed

from ..models import (
    REQUEST_TRANSITIONS,
    AccessPolicy,
    AccessRequest,
    Decision,
    Grant,
    Recusal,
    RequestKind,
    RequestStatus,
    RequirementTiming,
    Review,
)
from ..rules.needs import eligible_approvals
from ..rules.requirements import Facts, unmet_labels, waiting_label
from ..selectors import current_approvals
from ._checks import check_reviewer, check_signoff, locked, policy_of
from ._emails import email_applicant
from .door import door_needs, grant_admit, grant_extend
from .escalations import access_request_escalate


def _grant_days(policy: AccessPolicy, days: int | None) -> int:
    """The reviewer may shorten a grant below the policy's maximum, never lengthen it."""
    if days is None:
        return policy.grant_days
    if not 1 <= days <= policy.grant_days:
        raise ValidationFailed(
            _("A grant on %(full_name)s lasts between 1 and %(grant_days)s days.")
            % {"full_name": policy.model.full_name, "grant_days": policy.grant_days},
            field="grant_days",
        )
    return days


def _missing(policy: AccessPolicy, access_request: AccessRequest) -> list[str]:
    """The requirements the grant would wait for; refused outright under "before approval"."""
    missing = unmet_labels(policy, Facts(access_request.user))
    if missing and policy.requirements_timing == RequirementTiming.BEFORE:
        raise PolicyNotMet(
            _(
                "This model's policy needs every requirement before approval; the applicant is missing: %(missing)s. "
                "Ask for changes, or approve once they hold."
            )
            % {"missing": "; ".join(_(label) for label in missing)}
        )
    return missing


def approve(
    access_request: AccessRequest,
    *,
    reviewer: User | None,
    message: str,
    meta: RequestMeta,
    grant_days: int | None = None,
    approved_by: Sequence[str] = (),
) -> Grant:
    """Approve a locked request and open its grant through the door; `reviewer=None` is
    automatic approval. The grant is pending while any rule of the policy is unmet (requirements
    completed after approval, the researcher's signature of a direct grant…)."""
    policy = policy_of(access_request.model)
    if access_request.agreements.exists():  # a direct grant's request waits for its signature first
        check_signoff(access_request, policy)
    REQUEST_TRANSITIONS.check(access_request.status, RequestStatus.APPROVED, state=_state(access_request))
    days = _grant_days(policy, grant_days)
    _missing(policy, access_request)
    now = timezone.now()
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.APPROVED)
    access_request.decided_at = now
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(
        request=access_request, reviewer=reviewer, decision=Decision.APPROVED, message=message
    )

    def approved(grant: Grant, waiting_for: list[str]) -> None:
        if waiting_for:
            access_request.reviewer_message = f"{waiting_label(waiting_for, sentence=True)}. {message}".strip()
            access_request.save(update_fields=["reviewer_message"])
        record(
            actor=reviewer,
            action=AuditAction.ACCESS_REQUEST_APPROVED,
            target=access_request,
            meta=meta,
            model=access_request.model.full_name,
            review_id=review.pk,
            grant_id=grant.pk,
            automatic=reviewer is None,
            approved_by=[*approved_by, reviewer.email] if reviewer else [],
            grant_days=days,
            waiting_for=waiting_for,
        )

    if access_request.kind == RequestKind.RENEWAL:
        # A renewal extends the grant it renews (refused while a rule is unmet; it never waits).
        grant = grant_extend(access_request=access_request, days=days, now=now, approved_by=reviewer, meta=meta)
        approved(grant, [])
        email_applicant(access_request, "request_approved", message=message, expires_at=grant.expires_at)
        return grant
    waiting_for = door_needs(access_request, now=now)
    grant = grant_admit(
        access_request=access_request,
        actor=reviewer,
        meta=meta,
        now=now,
        days=days,
        on_open=lambda grant: approved(grant, waiting_for),
    )
    email_applicant(
        access_request,
        "request_approved",
        message=message,
        expires_at=grant.expires_at,
        waiting_for=grant.waiting_for,
    )
    return grant


def _state(access_request: AccessRequest) -> str:
    return access_request.get_status_display().lower()


def check_not_appealed(access_request: AccessRequest) -> None:
    if access_request.status == RequestStatus.APPEALED:
        raise InvalidTransition(_("This request is under appeal; decide the appeal instead."))


@transaction.atomic
def access_request_approve(
    *,
    actor: User,
    access_request: AccessRequest,
    message: str = "",
    grant_days: int | None = None,
    meta: RequestMeta | None = None,
) -> Grant | None:
    """Approve: the grant, or None when the policy needs two approvals and this is the first
    (recorded as its own review and audit event; the request stays awaiting review).

    The request row is locked first, so two reviewers approving at the same moment are
    decided one after the other: exactly one of them opens the grant."""
    meta = meta or RequestMeta()
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    check_not_appealed(access_request)
    REQUEST_TRANSITIONS.check(access_request.status, RequestStatus.APPROVED, state=_state(access_request))
    policy = policy_of(access_request.model)
    message = message.strip()
    earlier = list(current_approvals(access_request))
    if any(review.reviewer_id == actor.pk for review in earlier):
        raise Conflict(_("You have already approved this request; a second, different reviewer must approve it."))
    # Only approvals the door counts (eligible reviewers, now) bring the request to a decision.
    eligible, _automatic = eligible_approvals(access_request, policy)
    if len(eligible) + 1 >= policy.approvals_required:
        return approve(
            access_request,
            reviewer=actor,
            message=message,
            meta=meta,
            grant_days=grant_days,
            # Ignored: a current approval's reviewer is set.
            approved_by=[review.reviewer.email for review in earlier],  # type: ignore[union-attr]
        )
    if access_request.agreements.exists():
        check_signoff(access_request, policy)
    _grant_days(policy, grant_days)
    _missing(policy, access_request)
    review = Review.objects.create(request=access_request, reviewer=actor, decision=Decision.APPROVED, message=message)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_APPROVAL_RECORDED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        approvals=len(eligible) + 1,
        approvals_required=policy.approvals_required,
    )
    access_request_escalate(access_request, meta=meta)  # is anyone left for the next approval?
    return None


@transaction.atomic
def access_request_recuse(
    *, actor: User, access_request: AccessRequest, reason: str, meta: RequestMeta | None = None
) -> Recusal:
    """Step aside from a request: this reviewer can no longer decide it (nor its appeal)."""
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    if not access_request.is_open and access_request.status != RequestStatus.APPEALED:
        raise InvalidTransition(
            _("This request is %(state)s; there is nothing left to decide.") % {"state": _state(access_request)}
        )
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Give a reason for recusing; other reviewers see it."), field="reason")
    recusal = Recusal.objects.create(request=access_request, reviewer=actor, reason=reason)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_RECUSED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        reason=reason,
    )
    access_request_escalate(access_request, meta=meta)
    return recusal


def _decide(
    *,
    actor: User,
    access_request: AccessRequest,
    to: RequestStatus,
    text: str,
    missing: str,
    template: str,
    audit_key: str,
    meta: RequestMeta | None,
) -> AccessRequest:
    """A decision that sends the applicant a message (rejection, request for changes): the
    message is required, is kept on the request and in a review row, and is e-mailed."""
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    check_not_appealed(access_request)
    text = text.strip()
    if not text:
        raise ValidationFailed(missing, field="message")
    REQUEST_TRANSITIONS.move(access_request, to)
    fields = ["status", "reviewer_message"]
    if to == RequestStatus.REJECTED:
        access_request.decided_at = timezone.now()
        fields.append("decided_at")
    access_request.reviewer_message = text
    access_request.save(update_fields=fields)
    review = Review.objects.create(request=access_request, reviewer=actor, decision=DECISIONS[to], message=text)
    record(
        actor=actor,
        action=ACTIONS[to],
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        **{audit_key: text},
    )
    email_applicant(access_request, template, message=text)
    return access_request


DECISIONS = {RequestStatus.REJECTED: Decision.REJECTED, RequestStatus.CHANGES_REQUESTED: Decision.CHANGES_REQUESTED}
ACTIONS = {
    RequestStatus.REJECTED: AuditAction.ACCESS_REQUEST_REJECTED,
    RequestStatus.CHANGES_REQUESTED: AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
}


@transaction.atomic
def access_request_reject(
    *, actor: User, access_request: AccessRequest, reason: str, meta: RequestMeta | None = None
) -> AccessRequest:
    return _decide(
        actor=actor,
        access_request=access_request,
        to=RequestStatus.REJECTED,
        text=reason,
        missing=_("Give a reason for the rejection; the applicant will see it."),
        template="request_rejected",
        meta=meta,
        audit_key="reason",
    )


@transaction.atomic
def access_request_request_changes(
    *, actor: User, access_request: AccessRequest, message: str, meta: RequestMeta | None = None
) -> AccessRequest:
    return _decide(
        actor=actor,
        access_request=access_request,
        to=RequestStatus.CHANGES_REQUESTED,
        text=message,
        missing=_("Say what the applicant should change."),
        template="request_changes_requested",
        meta=meta,
        audit_key="message",
    )
