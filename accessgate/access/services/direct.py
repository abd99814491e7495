"""Reviewer moves that the Hugging Face access-request API needs beyond the review pages:
granting without a request, and returning a decided request to the pending list."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition

from ..models import AccessRequest, Grant, GrantStatus, RequestStatus
from ..rules.needs import cooldown_refusal
from ..rules.staff import can_review
from ._checks import locked, policy_of
from ._emails import email_applicant
from .door import grant_admit
from .grants import revoke_locked
from .reviews import access_request_approve

DIRECT_GRANT_NOTE = "Granted directly by a reviewer, without an application."
RETURNED_TO_PENDING = "Access returned to pending review by a reviewer."


@transaction.atomic
def grant_create_direct(*, actor: User, user: User, model: Model, meta: RequestMeta | None = None) -> Grant:
    """Give `user` access to `model` without an application of theirs: one reviewer's approval.

    An open (submitted) request is approved as it is (on a two-approval model that is its first
    approval: no grant yet). Otherwise a request records the approval and the grant opens through
    the door, pending: the researcher writes the intended use, answers the questions and signs the
    licence and statements (`grant_sign`); on a two-approval model it also waits for a second
    reviewer, who approves the request from the queue. A running cooldown refuses.
    """
    meta = meta or RequestMeta()
    if actor.pk == user.pk:
        raise AccessDenied(_("Nobody can grant themself access."))
    if not can_review(actor, model):
        raise AccessDenied(_("You are not a reviewer of %(full_name)s.") % {"full_name": model.full_name})
    policy = policy_of(model)
    # Decisions on this person's requests for the model (an appeal, an approval) finish first.
    list(AccessRequest.objects.select_for_update().filter(user=user, model=model).values_list("pk", flat=True))
    if AccessRequest.objects.filter(user=user, model=model, status=RequestStatus.APPEALED).exists():
        raise Conflict(
            _("%(username)s has an appeal for %(full_name)s under review; decide the appeal instead.")
            % {"username": user.username, "full_name": model.full_name}
        )
    if Grant.objects.active().filter(user=user, model=model).exists():
        raise Conflict(
            _("%(username)s already has access to %(full_name)s.")
            % {"username": user.username, "full_name": model.full_name}
        )
    if Grant.objects.filter(user=user, model=model, status=GrantStatus.SUSPENDED).exists():
        raise Conflict(
            _("%(username)s's access to %(full_name)s is suspended until they verify again.")
            % {"username": user.username, "full_name": model.full_name}
        )
    if Grant.objects.filter(user=user, model=model, status=GrantStatus.PENDING).exists():
        raise Conflict(
            _("%(username)s's access to %(full_name)s is already approved and waiting; see the grants list.")
            % {"username": user.username, "full_name": model.full_name}
        )
    submitted = AccessRequest.objects.filter(user=user, model=model, status=RequestStatus.SUBMITTED).first()
    if submitted is not None:
        grant = access_request_approve(actor=actor, access_request=submitted, meta=meta)
        if grant is None:  # the first of two approvals: refused here, so nothing is recorded
            raise Conflict(
                _("%(username)s's request for %(full_name)s needs a second reviewer's approval; decide on its page.")
                % {"username": user.username, "full_name": model.full_name}
            )
        return grant
    if AccessRequest.objects.filter(user=user, model=model, status=RequestStatus.CHANGES_REQUESTED).exists():
        raise Conflict(
            _("%(username)s has a request for %(full_name)s waiting on their changes.")
            % {"username": user.username, "full_name": model.full_name}
        )
    now = timezone.now()
    access_request = AccessRequest(
        user=user, model=model, intended_use="", created_at=now, submitted_at=now, reviewer_message=DIRECT_GRANT_NOTE
    )
    refusal = cooldown_refusal(access_request, policy, now=now)
    if refusal:
        raise refusal
    try:
        with transaction.atomic():
            access_request.save()
    except IntegrityError as error:  # a parallel submission or direct grant won the race
        raise Conflict(
            _("%(username)s already has an open request for %(full_name)s.")
            % {"username": user.username, "full_name": model.full_name}
        ) from error
    approved = access_request_approve(actor=actor, access_request=access_request, message=DIRECT_GRANT_NOTE, meta=meta)
    if approved is not None:
        return approved  # e-mailed by the approval, with what the grant waits for
    grant = grant_admit(access_request=access_request, actor=actor, meta=meta, now=now, direct=True)
    email_applicant(
        access_request,
        "request_approved",
        message=f"{DIRECT_GRANT_NOTE} Complete your application and sign before your first download: "
        + reverse("access:licence_accept", args=[grant.pk]),
        expires_at=grant.expires_at,
        waiting_for=grant.waiting_for,
    )
    return grant


@transaction.atomic
def access_request_return_to_pending(
    *, actor: User, access_request: AccessRequest, meta: RequestMeta | None = None
) -> AccessRequest:
    """Undo a decision: an approved request's grant is revoked, and a new pending request with
    the same intended use opens for review (the decided one stays as history; decisions are
    never rewritten). Its approval needs the researcher to sign again before downloading.

    Transition: APPROVED or REJECTED request -> a new SUBMITTED request; active grant -> REVOKED.
    """
    meta = meta or RequestMeta()
    access_request = locked(access_request)
    if access_request.user_id == actor.pk:
        raise AccessDenied(_("Nobody can review their own request."))
    if not can_review(actor, access_request.model):
        raise AccessDenied(
            _("You are not a reviewer of %(full_name)s.") % {"full_name": access_request.model.full_name}
        )
    if access_request.status not in (RequestStatus.APPROVED, RequestStatus.REJECTED):
        raise InvalidTransition(
            _("This request is %(status)s; only a decided request can go back to pending.")
            % {"status": access_request.get_status_display().lower()}
        )
    revoked = None
    grant = (
        Grant.objects.select_for_update()
        .filter(request=access_request, status__in=[GrantStatus.ACTIVE, GrantStatus.PENDING])
        .first()
    )
    if grant is not None:
        revoke_locked(grant, actor=actor, reason=RETURNED_TO_PENDING, meta=meta)
        revoked = grant.pk
    reopened = AccessRequest(
        user=access_request.user, model=access_request.model, intended_use=access_request.intended_use
    )
    try:
        with transaction.atomic():
            reopened.save()
    except IntegrityError as error:
        raise Conflict(
            _("%(username)s already has an open request for this model.") % {"username": access_request.user.username}
        ) from error
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_REOPENED,
        target=reopened,
        meta=meta,
        model=access_request.model.full_name,
        previous_request_id=access_request.pk,
        previous_status=access_request.status,
        revoked_grant_id=revoked,
    )
    if revoked:
        email_applicant(access_request, "grant_revoked", message=RETURNED_TO_PENDING)
    return reopened
