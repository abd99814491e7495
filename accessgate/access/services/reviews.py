"""Review decisions: approve (which opens a grant), reject, ask for changes."""

from django.db import transaction
from django.utils import timezone

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import ValidationFailed

from ..models import REQUEST_TRANSITIONS, AccessRequest, Decision, Grant, RequestKind, RequestStatus, Review
from ._checks import check_reviewer, check_signoff, locked, policy_of
from ._emails import email_applicant
from .grants import grant_extend, grant_open


def approve(access_request: AccessRequest, *, reviewer: User | None, message: str, meta: RequestMeta) -> Grant:
    """Approve a locked request and open its grant; `reviewer=None` is automatic approval."""
    policy = policy_of(access_request.model)
    check_signoff(access_request, policy)
    now = timezone.now()
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.APPROVED)
    access_request.decided_at = now
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(
        request=access_request, reviewer=reviewer, decision=Decision.APPROVED, message=message
    )
    if access_request.kind == RequestKind.RENEWAL:
        grant = grant_extend(access_request=access_request, days=policy.grant_days, now=now, approved_by=reviewer)
    else:
        grant = grant_open(access_request=access_request, days=policy.grant_days, now=now, approved_by=reviewer)
    record(
        actor=reviewer,
        action=AuditAction.ACCESS_REQUEST_APPROVED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        grant_id=grant.pk,
        automatic=reviewer is None,
    )
    if access_request.kind == RequestKind.RENEWAL:
        email_applicant(access_request, "request_approved", message=message, expires_at=grant.expires_at)
        return grant
    record(
        actor=reviewer,
        action=AuditAction.GRANT_CREATED,
        target=grant,
        meta=meta,
        user=access_request.user.email,
        model=access_request.model.full_name,
        request_id=access_request.pk,
        expires_at=grant.expires_at.isoformat(),
    )
    email_applicant(access_request, "request_approved", message=message, expires_at=grant.expires_at)
    return grant


@transaction.atomic
def access_request_approve(
    *, actor: User, access_request: AccessRequest, message: str = "", meta: RequestMeta | None = None
) -> Grant:
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    return approve(access_request, reviewer=actor, message=message.strip(), meta=meta or RequestMeta())


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
        missing="Give a reason for the rejection; the applicant will see it.",
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
        missing="Say what the applicant should change.",
        template="request_changes_requested",
        meta=meta,
        audit_key="message",
    )
