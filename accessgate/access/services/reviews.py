"""Review decisions: approve (which opens a grant), reject, ask for changes."""

from django.db import transaction
from django.utils import timezone

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import ValidationFailed

from ..models import REQUEST_TRANSITIONS, AccessRequest, Decision, Grant, RequestStatus, Review
from ._checks import check_reviewer, locked, policy_of
from ._emails import email_applicant
from .grants import grant_open


def approve(access_request: AccessRequest, *, reviewer: User | None, message: str, meta: RequestMeta) -> Grant:
    """Approve a locked request and open its grant; `reviewer=None` is automatic approval."""
    policy = policy_of(access_request.model)
    now = timezone.now()
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.APPROVED)
    access_request.decided_at = now
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(
        request=access_request, reviewer=reviewer, decision=Decision.APPROVED, message=message
    )
    grant = grant_open(access_request=access_request, days=policy.grant_days, now=now)
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
    decision: Decision,
    text: str,
    action: AuditAction,
    meta: RequestMeta | None,
    **details,
) -> Review:
    REQUEST_TRANSITIONS.move(access_request, to)
    fields = ["status", "reviewer_message"]
    if to == RequestStatus.REJECTED:
        access_request.decided_at = timezone.now()
        fields.append("decided_at")
    access_request.reviewer_message = text
    access_request.save(update_fields=fields)
    review = Review.objects.create(request=access_request, reviewer=actor, decision=decision, message=text)
    record(
        actor=actor,
        action=action,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        **details,
    )
    return review


@transaction.atomic
def access_request_reject(
    *, actor: User, access_request: AccessRequest, reason: str, meta: RequestMeta | None = None
) -> AccessRequest:
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for the rejection; the applicant will see it.", field="message")
    _decide(
        actor=actor,
        access_request=access_request,
        to=RequestStatus.REJECTED,
        decision=Decision.REJECTED,
        text=reason,
        action=AuditAction.ACCESS_REQUEST_REJECTED,
        meta=meta,
        reason=reason,
    )
    email_applicant(access_request, "request_rejected", message=reason)
    return access_request


@transaction.atomic
def access_request_request_changes(
    *, actor: User, access_request: AccessRequest, message: str, meta: RequestMeta | None = None
) -> AccessRequest:
    access_request = locked(access_request)
    check_reviewer(actor, access_request)
    message = message.strip()
    if not message:
        raise ValidationFailed("Say what the applicant should change.", field="message")
    _decide(
        actor=actor,
        access_request=access_request,
        to=RequestStatus.CHANGES_REQUESTED,
        decision=Decision.CHANGES_REQUESTED,
        text=message,
        action=AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
        meta=meta,
        message=message,
    )
    email_applicant(access_request, "request_changes_requested", message=message)
    return access_request
