"""The researcher's side of an access request: submit, resubmit after changes, withdraw."""

from collections import abc
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import AccessDenied, Conflict, PolicyNotMet, ValidationFailed
from accessgate.core.i18n import local_date

from ..models import (
    OPEN_STATUSES,
    REQUEST_TRANSITIONS,
    AccessRequest,
    Collection,
    Grant,
    GrantStatus,
    RequestStatus,
    SuspensionReason,
)
from ..selectors import reapply_after
from ._applications import _review_due, _sign_and_record, open_member_request
from ._checks import check_application, check_requirements, locked, policy_of
from ._emails import email_reviewers
from .collections import collection_submit
from .escalations import access_request_escalate
from .signoffs import signoffs_void_changed


@transaction.atomic
def access_request_submit(
    *,
    actor: User,
    model: Model,
    intended_use: str,
    accepted_statement_ids: abc.Collection[int],
    typed_name: str,
    answers: abc.Mapping[str, Any] | None = None,
    collection: Collection | None = None,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> AccessRequest:
    """Apply for a model: answer its questions, sign its licence and statements. Auto-gated
    models grant at once. With `collection` (whose lead `model` must be), one form applies to
    every member, each decided under its own policy (`collections.collection_submit`).

    `shown_license_sha256`: the licence an API client showed the person; refused when stale."""
    meta = meta or RequestMeta()
    if collection is not None and collection.lead_id != model.pk:
        raise ValidationFailed(
            _("Apply for %(full_name)s through its lead model, %(lead)s.")
            % {"full_name": collection.full_name, "lead": collection.lead}
        )
    if collection is not None:
        return collection_submit(
            actor=actor,
            collection=collection,
            intended_use=intended_use,
            accepted_statement_ids=accepted_statement_ids,
            typed_name=typed_name,
            answers=answers,
            shown_license_sha256=shown_license_sha256,
            meta=meta,
        )
    policy = policy_of(model)
    _check_may_apply(actor, model)
    check_requirements(policy, actor)
    return open_member_request(
        actor=actor,
        model=model,
        policy=policy,
        collection=None,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        answers=answers,
        shown_license_sha256=shown_license_sha256,
        meta=meta,
    )


def _check_may_apply(actor: User, model: Model) -> None:
    if AccessRequest.objects.filter(user=actor, model=model, status__in=OPEN_STATUSES).exists():
        raise Conflict(
            _("You already have an open request for %(full_name)s; see My access.") % {"full_name": model.full_name}
        )
    existing = Grant.objects.active().filter(user=actor, model=model).first()
    if existing:
        raise Conflict(
            _("You already have access to %(full_name)s until %(expires_at)s.")
            % {"full_name": model.full_name, "expires_at": local_date(existing.expires_at)}
        )
    if Grant.objects.filter(user=actor, model=model, status=GrantStatus.PENDING).exists():
        raise Conflict(
            _("Your access to %(full_name)s is already approved; see My access for what it waits for.")
            % {"full_name": model.full_name}
        )
    suspended = Grant.objects.filter(user=actor, model=model, status=GrantStatus.SUSPENDED).first()
    if suspended is not None and suspended.suspended_reason == SuspensionReason.IDENTITY_EXPIRED:
        raise Conflict(
            _("Your access to %(full_name)s is suspended until you verify your identity again.")
            % {"full_name": model.full_name}
        )
    if suspended is not None:
        raise Conflict(
            _("Your access to %(full_name)s is suspended: %(suspension_message)s")
            % {"full_name": model.full_name, "suspension_message": suspended.suspension_message}
        )
    if AccessRequest.objects.filter(user=actor, model=model, status=RequestStatus.APPEALED).exists():
        raise Conflict(
            _("Your appeal for %(full_name)s is under review; wait for its outcome.") % {"full_name": model.full_name}
        )
    until = reapply_after(actor, model)
    if until is not None:
        raise PolicyNotMet(
            _("Your last request for %(full_name)s was rejected; you may apply again from %(until)s UTC.")
            # ISO on purpose: an exact minute in UTC, as the appeal tests read it.
            % {"full_name": model.full_name, "until": f"{until:%Y-%m-%d %H:%M}"}
        )


@transaction.atomic
def access_request_resubmit(
    *,
    actor: User,
    access_request: AccessRequest,
    intended_use: str,
    accepted_statement_ids: abc.Collection[int],
    typed_name: str,
    answers: abc.Mapping[str, Any] | None = None,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> AccessRequest:
    """Answer a reviewer's request for changes; the earlier agreement and reviews stay in the history."""
    meta = meta or RequestMeta()
    access_request = locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied(_("Only the applicant can resubmit this request."))
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.SUBMITTED)
    policy = policy_of(access_request.model)
    intended_use, statements, cleaned_answers = check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        answers=answers,
        shown_license_sha256=shown_license_sha256,
    )
    access_request.intended_use = intended_use
    access_request.submitted_at = timezone.now()
    access_request.review_due_at = _review_due(policy, access_request.submitted_at)
    access_request.save(update_fields=["status", "intended_use", "submitted_at", "review_due_at"])
    _sign_and_record(
        actor=actor,
        access_request=access_request,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        answers=cleaned_answers,
        action=AuditAction.ACCESS_REQUEST_RESUBMITTED,
    )
    if policy.require_signoff:
        signoffs_void_changed(access_request, actor=actor, meta=meta)
    email_reviewers(access_request, resubmitted=True)
    access_request_escalate(access_request, meta=meta)
    return access_request


@transaction.atomic
def access_request_withdraw(
    *, actor: User, access_request: AccessRequest, meta: RequestMeta | None = None
) -> AccessRequest:
    access_request = locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied(_("Only the applicant can withdraw this request."))
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.WITHDRAWN)
    access_request.decided_at = timezone.now()
    access_request.save(update_fields=["status", "decided_at"])
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_WITHDRAWN,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
    )
    return access_request
