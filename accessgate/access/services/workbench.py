"""The reviewer's workbench: claim or assign a request, internal notes, bulk decisions."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, DomainError, InvalidTransition, NotFound, ValidationFailed

from ..models import AccessRequest, ReviewNote
from ..policy import can_review
from ._checks import locked
from .reviews import access_request_approve, access_request_reject


def _check_staff(actor: User, access_request: AccessRequest) -> None:
    if not can_review(actor, access_request.model):
        raise AccessDenied(f"You are not a reviewer of {access_request.model.full_name}.")


@transaction.atomic
def access_request_assign(
    *, actor: User, access_request: AccessRequest, assignee: User | None, meta: RequestMeta | None = None
) -> AccessRequest:
    """Claim (assignee = actor), assign to another reviewer of the model, or release (None)."""
    access_request = locked(access_request)
    _check_staff(actor, access_request)
    if not access_request.is_open:
        raise InvalidTransition(f"This request is {access_request.get_status_display().lower()}; nothing to assign.")
    if assignee is not None:
        if not can_review(assignee, access_request.model):
            raise ValidationFailed(f"{assignee.email} is not a reviewer of {access_request.model.full_name}.")
        if assignee.pk == access_request.user_id:
            raise ValidationFailed("Nobody can review their own request.")
    if access_request.assigned_to_id == (assignee.pk if assignee else None):
        return access_request
    previous = access_request.assigned_to.email if access_request.assigned_to else None
    access_request.assigned_to = assignee
    access_request.save(update_fields=["assigned_to"])
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_ASSIGNED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        assigned_to=assignee.email if assignee else None,
        previous=previous,
    )
    return access_request


@transaction.atomic
def review_note_add(
    *, actor: User, access_request: AccessRequest, text: str, meta: RequestMeta | None = None
) -> ReviewNote:
    """An internal note (reviewers and admins only; never shown to the applicant)."""
    access_request = locked(access_request)
    _check_staff(actor, access_request)
    text = text.strip()
    if not text:
        raise ValidationFailed("Write the note first.", field="text")
    note = ReviewNote.objects.create(request=access_request, author=actor, text=text)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_NOTE_ADDED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        note_id=note.pk,
        text=text,
    )
    return note


@dataclass(frozen=True)
class BulkResult:
    request_id: int
    ok: bool
    message: str


def access_requests_bulk_decide(
    *, actor: User, request_ids: Iterable[int], approve: bool, message: str, meta: RequestMeta | None = None
) -> list[BulkResult]:
    """Approve or reject many requests with one message. Each request goes through the same
    service as a single decision, in its own transaction, with its own checks and events;
    every failure is returned with its reason, never hidden."""
    results = []
    for request_id in sorted(set(request_ids)):
        access_request = AccessRequest.objects.filter(pk=request_id).select_related("model").first()
        try:
            if access_request is None:
                raise NotFound(f"Request #{request_id} does not exist.")
            if approve:
                grant = access_request_approve(actor=actor, access_request=access_request, message=message, meta=meta)
                outcome = "approved" if grant is not None else "approval recorded (1 of 2)"
            else:
                access_request_reject(actor=actor, access_request=access_request, reason=message, meta=meta)
                outcome = "rejected"
        except DomainError as error:
            results.append(BulkResult(request_id, False, error.message))
        else:
            results.append(BulkResult(request_id, True, outcome))
    return results
