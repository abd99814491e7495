"""Requests nobody can decide, or nobody has decided in time, are escalated to the model's
admins: at once and once per reason and submission (`Escalation`'s unique row). An admin can
then assign a reviewer from outside the model's list to that one request.

Reasons: `no_eligible_reviewer` (every reviewer is the applicant, recused, conflicted where the
policy blocks conflicts, has already approved, or there is none), `too_few_reviewers` (fewer
eligible reviewers than the approvals still needed), `overdue` (past the policy's review target).
Who is told: the admins, the model's publishers, and the policy's notification address.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.accounts.selectors import profile_for, users_with_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition
from accessgate.notifications.services import email_queue

from ..models import AccessRequest, Escalation, EscalationReason, RequestReviewer, RequestStatus
from ..rules.reviewers import approvals_still_needed, eligible_reviewers, reviewer_problem
from ..rules.staff import can_review
from ..selectors import policy_for
from ._checks import locked


def stuck_reasons(access_request: AccessRequest, *, now=None) -> list[str]:
    """Why this submitted request needs an admin now (empty: it does not)."""
    policy = policy_for(access_request.model)
    if access_request.status != RequestStatus.SUBMITTED or policy is None:
        return []
    reasons: list[str] = []
    needed = approvals_still_needed(access_request, policy)
    eligible = len(eligible_reviewers(access_request, policy))
    if needed and eligible == 0:
        reasons.append(EscalationReason.NO_ELIGIBLE_REVIEWER)
    elif eligible < needed:
        reasons.append(EscalationReason.TOO_FEW_REVIEWERS)
    if access_request.review_due_at and access_request.review_due_at <= (now or timezone.now()):
        reasons.append(EscalationReason.OVERDUE)
    return reasons


def _recipients(access_request: AccessRequest) -> list[str]:
    people = list(users_with_role(Role.ADMIN)) + list(access_request.model.publishers.filter(is_active=True))
    emails = list(dict.fromkeys(user.email for user in people if user.is_active))
    policy = policy_for(access_request.model)
    if policy is not None and policy.notification_email and policy.notification_email not in emails:
        emails.append(policy.notification_email)
    return emails


@transaction.atomic
def access_request_escalate(
    access_request: AccessRequest, *, now=None, meta: RequestMeta | None = None
) -> list[Escalation]:
    """Escalate this request for each reason that holds and was not escalated in this round.
    Idempotent; returns the new escalations (none: nothing new)."""
    access_request = locked(access_request)
    now = now or timezone.now()
    new = []
    for reason in stuck_reasons(access_request, now=now):
        try:
            with transaction.atomic():
                escalation, created = Escalation.objects.get_or_create(
                    request=access_request, reason=reason, round=access_request.submitted_at
                )
        except IntegrityError:  # a parallel escalation of the same round won
            continue
        if not created:
            continue
        new.append(escalation)
        policy = policy_for(access_request.model)
        assert policy is not None  # an escalated request is submitted, under its model's policy
        to = _recipients(access_request)
        record(
            actor=None,
            action=AuditAction.ACCESS_REQUEST_ESCALATED,
            target=access_request,
            meta=meta,
            model=access_request.model.full_name,
            reason=reason,
            eligible_reviewers=len(eligible_reviewers(access_request, policy)),
            approvals_needed=approvals_still_needed(access_request, policy),
            review_due_at=access_request.review_due_at.isoformat() if access_request.review_due_at else None,
            notified=to,
        )
        if to:
            email_queue(
                to=to,
                template="review_escalated",
                context={
                    "request_id": access_request.pk,
                    "model_name": access_request.model.full_name,
                    "applicant_name": profile_for(access_request.user).full_name or access_request.user.email,
                    "reason": EscalationReason(reason).label,
                    "review_url": settings.SITE_URL + reverse("review:detail", args=[access_request.pk]),
                },
            )
    return new


def requests_escalate(*, model=None, now=None) -> int:
    """Escalate every submitted request (of `model`, or all) that is stuck or overdue now:
    after a change that can leave requests without a decider, and periodically for the due
    date. Returns how many escalations were new."""
    requests = AccessRequest.objects.filter(status=RequestStatus.SUBMITTED)
    if model is not None:
        requests = requests.filter(model=model)
    return sum(len(access_request_escalate(r, now=now)) for r in requests.select_related("model", "user"))


def requests_escalate_for_reviewer(user: User) -> int:
    """A reviewer lost their role: the requests they could decide may be stuck now."""
    requests = AccessRequest.objects.filter(status=RequestStatus.SUBMITTED).filter(
        Q(model__reviewers=user) | Q(extra_reviewers__reviewer=user)
    )
    return sum(len(access_request_escalate(r)) for r in requests.distinct().select_related("model", "user"))


@transaction.atomic
def access_request_reviewer_add(
    *, actor: User, access_request: AccessRequest, reviewer: User, meta: RequestMeta | None = None
) -> RequestReviewer:
    """An admin assigns `reviewer` (who holds the reviewer role) to this ONE request: they then
    see it in their queue and may decide it, and nothing else of the model."""
    access_request = locked(access_request)
    if not has_role(actor, Role.ADMIN):
        raise AccessDenied(_("Only an admin can add a reviewer to one request."))
    if not access_request.is_open and access_request.status != RequestStatus.APPEALED:
        raise InvalidTransition(_("This request is decided; there is nothing left to review."))
    if not (reviewer.is_active and has_role(reviewer, Role.REVIEWER)):
        raise AccessDenied(_("%(email)s does not hold the reviewer role.") % {"email": reviewer.email})
    policy = policy_for(access_request.model)
    assert policy is not None  # an open request is under its model's policy
    problem = reviewer_problem(reviewer, access_request, policy)
    if problem:
        raise AccessDenied(problem)
    if can_review(reviewer, access_request.model) or access_request.extra_reviewers.filter(reviewer=reviewer).exists():
        raise Conflict(_("%(email)s can already decide this request.") % {"email": reviewer.email})
    added = RequestReviewer.objects.create(request=access_request, reviewer=reviewer, added_by=actor)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_REVIEWER_ADDED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        reviewer=reviewer.email,
    )
    email_queue(
        to=[reviewer.email],
        template="review_new_request",
        context={
            "applicant_name": profile_for(access_request.user).full_name or access_request.user.email,
            "model_name": access_request.model.full_name,
            "request_id": access_request.pk,
            "review_url": settings.SITE_URL + reverse("review:detail", args=[access_request.pk]),
        },
    )
    return added
