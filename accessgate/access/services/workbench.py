"""The reviewer's workbench: claim or assign a request, internal notes, bulk decisions."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, DomainError, InvalidTransition, NotFound, ValidationFailed
from accessgate.notifications.services import email_queue

from ..models import AccessRequest, RequestStatus, ReviewerSettings, ReviewNote, ReviewNotifications
from ..rules.staff import can_review, reviewable_models
from ..selectors import escalated_now
from ._checks import locked
from .reviews import access_request_approve, access_request_reject


def _check_staff(actor: User, access_request: AccessRequest) -> None:
    if not can_review(actor, access_request.model):
        raise AccessDenied(
            gettext("You are not a reviewer of %(full_name)s.") % {"full_name": access_request.model.full_name}
        )


@transaction.atomic
def access_request_assign(
    *, actor: User, access_request: AccessRequest, assignee: User | None, meta: RequestMeta | None = None
) -> AccessRequest:
    """Claim (assignee = actor), assign to another reviewer of the model, or release (None)."""
    access_request = locked(access_request)
    _check_staff(actor, access_request)
    if not access_request.is_open:
        raise InvalidTransition(
            gettext("This request is %(status)s; nothing to assign.")
            % {"status": access_request.get_status_display().lower()}
        )
    if assignee is not None:
        if not can_review(assignee, access_request.model):
            raise ValidationFailed(
                gettext("%(email)s is not a reviewer of %(full_name)s.")
                % {"email": assignee.email, "full_name": access_request.model.full_name}
            )
        if assignee.pk == access_request.user_id:
            raise ValidationFailed(gettext("Nobody can review their own request."))
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
        raise ValidationFailed(gettext("Write the note first."), field="text")
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
                raise NotFound(gettext("Request #%(request_id)s does not exist.") % {"request_id": request_id})
            if approve:
                grant = access_request_approve(actor=actor, access_request=access_request, message=message, meta=meta)
                outcome = gettext("approved") if grant is not None else gettext("approval recorded (1 of 2)")
            else:
                access_request_reject(actor=actor, access_request=access_request, reason=message, meta=meta)
                outcome = gettext("rejected")
        except DomainError as error:
            results.append(BulkResult(request_id, False, error.message))
        else:
            results.append(BulkResult(request_id, True, outcome))
    return results


@transaction.atomic
def reviewer_notifications_set(*, actor: User, notifications: str, meta: RequestMeta | None = None) -> ReviewerSettings:
    """A reviewer's choice: an e-mail for each new request, or one daily digest."""
    if not (has_role(actor, Role.REVIEWER) or has_role(actor, Role.ADMIN)):
        raise AccessDenied(gettext("Only reviewers and admins receive review e-mails."))
    if notifications not in ReviewNotifications.values:
        raise ValidationFailed(gettext("Choose an e-mail for each request or a daily digest."), field="notifications")
    preference, _ = ReviewerSettings.objects.select_for_update().get_or_create(user=actor)
    if preference.notifications != notifications:
        preference.notifications = notifications
        preference.save(update_fields=["notifications"])
        record(
            actor=actor,
            action=AuditAction.ACCESS_REVIEWER_NOTIFICATIONS_SET,
            target=actor,
            meta=meta,
            notifications=notifications,
        )
    return preference


def review_digests_send(*, now: datetime | None = None) -> int:
    """Once a day: each digest reviewer gets the requests awaiting review on their models
    (new since the last digest marked). Returns how many digests were queued."""
    now = now or timezone.now()
    sent = 0
    for preference in ReviewerSettings.objects.filter(notifications=ReviewNotifications.DIGEST).select_related("user"):
        if preference.digest_sent_at and now - preference.digest_sent_at < timedelta(hours=23):
            continue
        with transaction.atomic():
            waiting = list(
                AccessRequest.objects.filter(
                    model__in=reviewable_models(preference.user), status=RequestStatus.SUBMITTED
                )
                .exclude(user=preference.user)
                .annotate(escalated=escalated_now())
                .select_related("model")
                .order_by("submitted_at")
            )
            since = preference.digest_sent_at
            if waiting:
                email_queue(
                    to=[preference.user.email],
                    template="review_digest",
                    context={
                        "requests": [
                            {
                                "id": r.pk,
                                "model": r.model.full_name,
                                "submitted_at": r.submitted_at,
                                "new": since is None or r.submitted_at > since,
                                "escalated": r.escalated,
                            }
                            for r in waiting
                        ],
                        "queue_url": settings.SITE_URL + reverse("review:queue"),
                    },
                )
                sent += 1
            preference.digest_sent_at = now
            preference.save(update_fields=["digest_sent_at"])
    return sent
