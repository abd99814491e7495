"""After a rejection: one appeal per request, with a message, decided once by a reviewer who
did not reject it (or an admin). The outcome is final."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, Conflict, ValidationFailed

from ..models import REQUEST_TRANSITIONS, AccessRequest, Appeal, AppealOutcome, Decision, Grant, RequestStatus, Review
from ..rules.needs import eligible_approvals
from ._checks import check_reviewer, locked, policy_of
from ._emails import email_applicant, email_reviewers
from .reviews import approve


@transaction.atomic
def access_request_appeal(
    *, actor: User, access_request: AccessRequest, message: str, meta: RequestMeta | None = None
) -> Appeal:
    access_request = locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied(_("Only the applicant can appeal this request."))
    if Appeal.objects.filter(request=access_request).exists():
        raise Conflict(_("This request has already been appealed; the outcome of an appeal is final."))
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.APPEALED)
    message = message.strip()
    if not message:
        raise ValidationFailed(_("Say why the decision should change; the reviewers read it."), field="message")
    access_request.save(update_fields=["status"])
    appeal = Appeal.objects.create(request=access_request, message=message)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_APPEALED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        appeal_id=appeal.pk,
        message=message,
    )
    email_reviewers(access_request, resubmitted=False, appeal=message)
    return appeal


def _appeal_approval(access_request, appeal, *, actor, message, policy, meta) -> None:
    """One of the approvals a granted appeal needs (on a two-approval model): recorded, and the
    appeal stays under review for the next reviewer who did not reject the request."""
    review = Review.objects.create(request=access_request, reviewer=actor, decision=Decision.APPROVED, message=message)
    record(
        actor=actor,
        action=AuditAction.ACCESS_APPEAL_APPROVAL_RECORDED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        appeal_id=appeal.pk,
        review_id=review.pk,
        approvals=len(eligible_approvals(access_request, policy)[0]),
        approvals_required=policy.approvals_required,
        message=message,
    )


def _rejected_by(access_request: AccessRequest) -> set[int]:
    return set(
        access_request.reviews.filter(decision=Decision.REJECTED, reviewer__isnull=False).values_list(
            "reviewer_id", flat=True
        )
    )


@transaction.atomic
def access_request_appeal_decide(
    *,
    actor: User,
    access_request: AccessRequest,
    grant: bool,
    message: str,
    meta: RequestMeta | None = None,
) -> Grant | None:
    """Decide an appeal: `grant=True` approves the request (through the same approval and the
    door, so the policy's approvals, requirement timing and grant length apply: on a two-approval
    model the first reviewer's grant is recorded and a second one, who did not reject the request
    either, completes it); otherwise the rejection stands."""
    meta = meta or RequestMeta()
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    REQUEST_TRANSITIONS.check(
        access_request.status,
        RequestStatus.APPROVED if grant else RequestStatus.REJECTED,
        state=access_request.get_status_display().lower(),
    )
    if actor.pk in _rejected_by(access_request):
        raise AccessDenied(_("You rejected this request; a different reviewer or an admin decides its appeal."))
    message = message.strip()
    if not message:
        raise ValidationFailed(_("Give the outcome of the appeal a reason; the applicant sees it."), field="message")
    appeal = Appeal.objects.select_for_update().get(request=access_request)
    if grant:
        policy = policy_of(access_request.model)
        approvers, _automatic = eligible_approvals(access_request, policy)
        if actor.pk in approvers:
            raise Conflict(_("You have already approved this appeal; a second, different reviewer must approve it."))
        if len(approvers) + 1 < policy.approvals_required:
            _appeal_approval(access_request, appeal, actor=actor, message=message, policy=policy, meta=meta)
            return None
    appeal.outcome = AppealOutcome.GRANTED if grant else AppealOutcome.DENIED
    appeal.decided_by = actor
    appeal.decided_at = timezone.now()
    appeal.decision_message = message
    appeal.save(update_fields=["outcome", "decided_by", "decided_at", "decision_message"])
    record(
        actor=actor,
        action=AuditAction.ACCESS_APPEAL_GRANTED if grant else AuditAction.ACCESS_APPEAL_DENIED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        appeal_id=appeal.pk,
        message=message,
    )
    if grant:
        return approve(access_request, reviewer=actor, message=message, meta=meta)
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.REJECTED)
    access_request.decided_at = appeal.decided_at
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    Review.objects.create(request=access_request, reviewer=actor, decision=Decision.REJECTED, message=message)
    email_applicant(access_request, "appeal_denied", message=message)
    return None
