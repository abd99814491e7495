"""Agreements: what an applicant signs (licence version, statements, typed name), renewing it
under an existing grant when the licence changes, and signing under a grant that waits for it."""

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition

from ..models import AccessPolicy, AccessRequest, Agreement, AttestationStatement, Grant, GrantStatus
from ..rules.answers import answers_sha256
from ..rules.downloads import signed_under
from ._checks import check_application, check_profile, check_shown, check_signature, check_statements, policy_of


def agreement_sign(
    *,
    access_request: AccessRequest,
    policy: AccessPolicy,
    statements: Collection[AttestationStatement],
    typed_name: str,
    meta: RequestMeta,
    answers: Sequence[dict[str, Any]] = (),
) -> Agreement:
    """Record exactly what was signed: the licence version, each statement's text and hash,
    and the answers to the form's questions (each with its question's hash; one hash of all)."""
    return Agreement.objects.create(
        request=access_request,
        user=access_request.user,
        license=policy.license,
        license_sha256=policy.license.sha256,
        attestations=[{"text": s.text, "sha256": s.sha256} for s in statements],
        intended_use=access_request.intended_use,
        answers=list(answers),
        answers_sha256=answers_sha256(list(answers)),
        typed_name=" ".join(typed_name.split()),
        ip=meta.ip,
        user_agent=meta.user_agent,
    )


def signed_details(agreement: Agreement, policy: AccessPolicy) -> dict:
    """The audit details naming exactly what was signed."""
    return {
        "agreement_id": agreement.pk,
        "license": str(policy.license),
        "license_sha256": agreement.license_sha256,
        "attestation_sha256s": [a["sha256"] for a in agreement.attestations],
        "answers": {a["key"]: a["value"] for a in agreement.answers},
        "answers_sha256": agreement.answers_sha256,
    }


@transaction.atomic
def agreement_renew(
    *,
    actor: User,
    grant: Grant,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> Agreement:
    """Sign the model's current licence and statements under an existing grant."""
    meta = meta or RequestMeta()
    grant = Grant.objects.select_for_update().select_related("request__model", "request__user").get(pk=grant.pk)
    if grant.user_id != actor.pk:
        raise AccessDenied(_("Only the grant holder can accept the licence."))
    if not Grant.objects.active().filter(pk=grant.pk).exists():
        raise InvalidTransition(_("This grant is no longer active; apply again instead."))
    policy = policy_of(grant.model)
    access_request = grant.request
    current = Agreement.objects.filter(signed_under(grant)).order_by("-signed_at", "-id").first()
    if current is not None and current.license_id == policy.license_id:
        raise Conflict(_("You have already accepted %(license)s.") % {"license": policy.license})
    check_shown(policy, shown_license_sha256)
    profile = check_profile(actor)
    statements = check_statements(policy, accepted_statement_ids)
    check_signature(profile, typed_name)
    agreement = agreement_sign(
        access_request=access_request,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        answers=current.answers if current else (),  # the answers stand; only the licence is new
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_AGREEMENT_RENEWED,
        target=grant,
        meta=meta,
        model=grant.model.full_name,
        previous_license_sha256=current.license_sha256 if current else "",
        **signed_details(agreement, policy),
    )
    return agreement


@transaction.atomic
def grant_sign(
    *,
    actor: User,
    grant: Grant,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    answers: Mapping[str, Any] | None = None,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> Grant:
    """Complete and sign the application under a grant that waits for it (a direct grant, or a
    model added to a collection): the intended use, the current questions, licence and
    statements. Then the door looks at the grant again; it is active once nothing else is
    missing (a second approval, a countersignature, a requirement)."""
    from .door import grant_settle
    from .signoffs import signoffs_void_changed

    meta = meta or RequestMeta()
    grant = Grant.objects.select_for_update(of=("self",)).select_related("model", "user").get(pk=grant.pk)
    if grant.user_id != actor.pk:
        raise AccessDenied(_("Only the grant holder can sign for it."))
    if grant.status != GrantStatus.PENDING:
        raise InvalidTransition(_("This grant is not waiting for your signature."))
    policy = policy_of(grant.model)
    intended_use, statements, cleaned_answers = check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        answers=answers,
        shown_license_sha256=shown_license_sha256,
    )
    access_request = AccessRequest.objects.select_for_update().get(pk=grant.request_id)
    access_request.intended_use = intended_use
    access_request.save(update_fields=["intended_use"])
    agreement = agreement_sign(
        access_request=access_request,
        policy=policy,
        statements=statements,
        typed_name=typed_name,
        meta=meta,
        answers=cleaned_answers,
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_AGREEMENT_SIGNED,
        target=grant,
        meta=meta,
        model=grant.model.full_name,
        request_id=access_request.pk,
        intended_use=intended_use,
        **signed_details(agreement, policy),
    )
    if policy.require_signoff:
        signoffs_void_changed(access_request, actor=actor, meta=meta)
    grant.request = access_request
    return grant_settle(grant, actor=actor, meta=meta, now=agreement.signed_at)
