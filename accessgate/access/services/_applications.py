"""Opening an access request on one model (private to the package): the application's checks,
its signed agreement and its first move (automatic approval, or the reviewers told). Shared by
a single application and by each member of a collection application."""

from collections import abc
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model
from accessgate.core.errors import Conflict

from ..models import (
    AccessPolicy,
    AccessRequest,
    AttestationStatement,
    Collection,
    Gating,
)
from ._checks import check_application, policy_of
from ._emails import email_applicant, email_reviewers
from .agreements import agreement_sign, signed_details
from .escalations import access_request_escalate
from .reviews import approve


def _review_due(policy: AccessPolicy, submitted_at):
    return submitted_at + timedelta(days=policy.review_target_days) if policy.review_target_days else None


def _sign_and_record(
    *,
    actor: User,
    access_request: AccessRequest,
    policy: AccessPolicy,
    statements: list[AttestationStatement],
    typed_name: str,
    meta: RequestMeta,
    action: AuditAction,
    answers: list[dict],
    **details,
) -> None:
    """Sign the application's agreement and record the (re)submission naming what was signed."""
    agreement = agreement_sign(
        access_request=access_request,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        answers=answers,
    )
    record(
        actor=actor,
        action=action,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        **details,
        **signed_details(agreement, policy),
    )


def open_member_request(
    *,
    actor: User,
    model: Model,
    policy: AccessPolicy,
    collection: Collection | None,
    intended_use: str,
    accepted_statement_ids: abc.Collection[int],
    typed_name: str,
    answers: abc.Mapping[str, Any] | None,
    shown_license_sha256: str | None,
    meta: RequestMeta,
) -> AccessRequest:
    """Check the application against `policy`, open the request on `model` (a member of
    `collection`, or alone), sign its agreement, and approve it at once under automatic gating."""
    intended_use, statements, cleaned_answers = check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        answers=answers,
        shown_license_sha256=shown_license_sha256,
    )
    now = timezone.now()
    access_request = AccessRequest(
        user=actor,
        model=model,
        intended_use=intended_use,
        created_at=now,
        submitted_at=now,
        review_due_at=_review_due(policy, now),
        collection=collection,
    )
    try:
        with transaction.atomic():
            access_request.save()
    except IntegrityError as error:  # a parallel submission won the race
        raise Conflict(
            _("You already have an open request for %(full_name)s; see My access.") % {"full_name": model.full_name}
        ) from error
    _sign_and_record(
        actor=actor,
        access_request=access_request,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        answers=cleaned_answers,
        action=AuditAction.ACCESS_REQUEST_SUBMITTED,
        gating=policy.gating,
        **({"collection": collection.full_name} if collection else {}),
    )
    if policy.require_signoff:
        email_applicant(access_request, "request_received")  # reviewers hear of it once countersigned
    elif policy.gating == Gating.AUTO:
        approve(access_request, reviewer=None, message="", meta=meta)
    else:
        email_applicant(access_request, "request_received")
        email_reviewers(access_request, resubmitted=False)
    access_request_escalate(access_request, meta=meta)  # nobody left who could decide it
    return access_request


def carry_over_request(holder: AccessRequest, *, model: Model, collection: Collection, meta: RequestMeta):
    """A request on a model added to a collection, for a holder of one of its grants: the
    intended use carries over, nothing is signed yet (the grant waits for the signature)."""
    now = timezone.now()
    access_request = AccessRequest.objects.create(
        user=holder.user,
        model=model,
        intended_use=holder.intended_use,
        created_at=now,
        submitted_at=now,
        review_due_at=_review_due(policy_of(model), now),
        collection=collection,
    )
    record(
        actor=None,
        action=AuditAction.ACCESS_REQUEST_SUBMITTED,
        target=access_request,
        meta=meta,
        model=model.full_name,
        collection=collection.full_name,
        carried_over_from=holder.pk,
    )
    email_reviewers(access_request, resubmitted=False)
    return access_request
