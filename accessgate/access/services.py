"""Every state change of access requests, agreements, reviews, grants and policies."""

from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accessgate.accounts.models import same_person_name
from accessgate.accounts.roles import Role
from accessgate.accounts.selectors import profile_for, users_with_role
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import LicenseVersion, Model
from accessgate.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet, ValidationFailed
from accessgate.notifications.services import email_queue

from .models import (
    OPEN_STATUSES,
    TRANSITIONS,
    AccessPolicy,
    AccessRequest,
    Agreement,
    AttestationStatement,
    Decision,
    Gating,
    Grant,
    GrantStatus,
    RequestStatus,
    Review,
)
from .policy import blocked_country, can_review, requirements_for

TRANSITION_VERBS = {
    RequestStatus.SUBMITTED: "resubmitted",
    RequestStatus.APPROVED: "approved",
    RequestStatus.REJECTED: "rejected",
    RequestStatus.CHANGES_REQUESTED: "sent back for changes",
    RequestStatus.WITHDRAWN: "withdrawn",
}


# --- helpers -----------------------------------------------------------------------------


def _transition(access_request: AccessRequest, to: RequestStatus) -> None:
    if to not in TRANSITIONS[access_request.status]:
        raise InvalidTransition(
            f"This request is {access_request.get_status_display().lower()}; it cannot be {TRANSITION_VERBS[to]}."
        )
    access_request.status = to


def _locked(access_request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().select_related("model", "user").get(pk=access_request.pk)


def _policy_of(model: Model) -> AccessPolicy:
    policy = AccessPolicy.objects.filter(model=model).select_related("license").first()
    if policy is None:
        raise PolicyNotMet(f"{model.full_name} is not open for applications yet.")
    return policy


def _check_requirements(policy: AccessPolicy, user) -> None:
    """Blocked countries refuse every application; automatic approval needs every requirement.
    (Manual policies accept the application and show the reviewer which requirements hold.)"""
    country = blocked_country(user, policy)
    if country:
        raise PolicyNotMet(f"{policy.model.full_name} is not available to researchers from {country}.")
    if policy.gating == Gating.AUTO:
        unmet = [r.label for r in requirements_for(user, policy) if not r.met and r.key != "profile"]
        if unmet:
            raise PolicyNotMet(f"Complete these requirements first: {'; '.join(unmet)}.")


def _check_profile(user):
    profile = profile_for(user)
    if not profile.is_complete:
        raise PolicyNotMet(f"Complete your profile before applying (missing: {', '.join(profile.missing_fields)}).")
    return profile


def _check_shown(policy: AccessPolicy, shown_license_sha256: str | None) -> None:
    """A client that shows the licence itself says which text it showed; a stale one is refused."""
    if shown_license_sha256 is not None and shown_license_sha256 != policy.license.sha256:
        raise Conflict(
            f"The licence of {policy.model.full_name} is now {policy.license} (sha256 {policy.license.sha256}), "
            "not the text that was shown. Show the current licence and statements and ask again.",
            field="license_sha256",
        )


def _check_statements(policy: AccessPolicy, accepted_statement_ids: Collection[int]) -> list[AttestationStatement]:
    statements = list(policy.statements.filter(is_active=True))
    unknown = set(accepted_statement_ids) - {s.pk for s in statements}
    if unknown:
        raise Conflict(
            f"Statements {', '.join(map(str, sorted(unknown)))} are not among the current statements of "
            f"{policy.model.full_name}. Show the current statements and ask again.",
            field="statements",
        )
    missing = [s for s in statements if s.pk not in set(accepted_statement_ids)]
    if missing:
        raise ValidationFailed(
            f"Tick every statement to apply; {len(missing)} of {len(statements)} are not ticked.",
            field="statements",
        )
    return statements


def _check_signature(profile, typed_name: str) -> None:
    if not same_person_name(typed_name, profile.full_name):
        raise ValidationFailed(
            f"Type your full name exactly as in your profile ({profile.full_name}) to sign.",
            field="typed_name",
        )


def _check_application(
    *,
    policy: AccessPolicy,
    user,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    shown_license_sha256: str | None = None,
) -> tuple[str, list[AttestationStatement]]:
    _check_shown(policy, shown_license_sha256)
    profile = _check_profile(user)
    intended_use = intended_use.strip()
    if len(intended_use) < policy.min_intended_use_chars:
        raise ValidationFailed(
            f"Describe your intended use in at least {policy.min_intended_use_chars} characters "
            f"(you wrote {len(intended_use)}).",
            field="intended_use",
        )
    statements = _check_statements(policy, accepted_statement_ids)
    _check_signature(profile, typed_name)
    return intended_use, statements


def _sign(
    *, access_request: AccessRequest, policy: AccessPolicy, statements, typed_name: str, meta: RequestMeta
) -> Agreement:
    return Agreement.objects.create(
        request=access_request,
        user=access_request.user,
        license=policy.license,
        license_sha256=policy.license.sha256,
        attestations=[{"text": s.text, "sha256": s.sha256} for s in statements],
        intended_use=access_request.intended_use,
        typed_name=" ".join(typed_name.split()),
        ip=meta.ip,
        user_agent=meta.user_agent,
    )


def _signed(agreement: Agreement, policy: AccessPolicy) -> dict:
    """The audit details naming exactly what was signed."""
    return {
        "agreement_id": agreement.pk,
        "license": str(policy.license),
        "license_sha256": agreement.license_sha256,
        "attestation_sha256s": [a["sha256"] for a in agreement.attestations],
    }


def _reviewer_emails(model: Model) -> list[str]:
    reviewers = list(model.reviewers.filter(is_active=True, groups__name=Role.REVIEWER.value))
    reviewers = reviewers or list(users_with_role(Role.ADMIN))
    return [user.email for user in reviewers]


def _email_context(access_request: AccessRequest, **extra) -> dict:
    return {
        "applicant_name": profile_for(access_request.user).full_name or access_request.user.email,
        "model_name": access_request.model.full_name,
        "model_display_name": access_request.model.display_name,
        "request_id": access_request.pk,
        "request_url": settings.SITE_URL + reverse("access:request_detail", args=[access_request.pk]),
        "review_url": settings.SITE_URL + reverse("review:detail", args=[access_request.pk]),
        **extra,
    }


def _email_applicant(access_request: AccessRequest, template: str, **extra) -> None:
    email_queue(to=[access_request.user.email], template=template, context=_email_context(access_request, **extra))


def _email_reviewers(access_request: AccessRequest, *, resubmitted: bool) -> None:
    email_queue(
        to=_reviewer_emails(access_request.model),
        template="review_new_request",
        context=_email_context(access_request, resubmitted=resubmitted),
    )


def _check_reviewer(actor, access_request: AccessRequest) -> None:
    if access_request.user_id == actor.pk:
        raise AccessDenied("Nobody can review their own request.")
    if not can_review(actor, access_request.model):
        raise AccessDenied(f"You are not a reviewer of {access_request.model.full_name}.")


def _end_lapsed_grants(user, model: Model, now) -> None:
    # A grant past its expiry that the hourly job has not marked yet.
    for grant in Grant.objects.select_for_update().filter(
        user=user, model=model, status=GrantStatus.ACTIVE, expires_at__lte=now
    ):
        _expire(grant, now)


def _approve(access_request: AccessRequest, *, reviewer, message: str, meta: RequestMeta) -> Grant:
    policy = _policy_of(access_request.model)
    now = timezone.now()
    _transition(access_request, RequestStatus.APPROVED)
    access_request.decided_at = now
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(
        request=access_request, reviewer=reviewer, decision=Decision.APPROVED, message=message
    )
    _end_lapsed_grants(access_request.user, access_request.model, now)
    grant = Grant.objects.create(
        user=access_request.user,
        model=access_request.model,
        request=access_request,
        granted_at=now,
        expires_at=now + timedelta(days=policy.grant_days),
    )
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
    _email_applicant(access_request, "request_approved", message=message, expires_at=grant.expires_at)
    return grant


def _expire(grant: Grant, now) -> None:
    grant.status = GrantStatus.EXPIRED
    grant.ended_at = now
    grant.save(update_fields=["status", "ended_at"])
    record(
        actor=None,
        action=AuditAction.GRANT_EXPIRED,
        target=grant,
        user=grant.user.email,
        model=grant.model.full_name,
        expired_at=grant.expires_at.isoformat(),
    )


# --- researcher --------------------------------------------------------------------------


@transaction.atomic
def access_request_submit(
    *,
    actor,
    model: Model,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> AccessRequest:
    """Apply for a model: sign its licence and statements. Auto-gated models grant at once.

    `shown_license_sha256`: the licence an API client showed the person; refused when stale."""
    meta = meta or RequestMeta()
    policy = _policy_of(model)
    if AccessRequest.objects.filter(user=actor, model=model, status__in=OPEN_STATUSES).exists():
        raise Conflict(f"You already have an open request for {model.full_name}; see My access.")
    existing = Grant.objects.active().filter(user=actor, model=model).first()
    if existing:
        raise Conflict(f"You already have access to {model.full_name} until {existing.expires_at:%Y-%m-%d}.")
    if Grant.objects.filter(user=actor, model=model, status=GrantStatus.SUSPENDED).exists():
        raise Conflict(f"Your access to {model.full_name} is suspended until you verify your identity again.")
    _check_requirements(policy, actor)
    intended_use, statements = _check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        shown_license_sha256=shown_license_sha256,
    )
    access_request = AccessRequest(user=actor, model=model, intended_use=intended_use)
    try:
        with transaction.atomic():
            access_request.save()
    except IntegrityError as error:  # a parallel submission won the race
        raise Conflict(f"You already have an open request for {model.full_name}; see My access.") from error
    agreement = _sign(
        access_request=access_request, policy=policy, statements=statements, typed_name=typed_name, meta=meta
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_SUBMITTED,
        target=access_request,
        meta=meta,
        model=model.full_name,
        gating=policy.gating,
        **_signed(agreement, policy),
    )
    if policy.gating == Gating.AUTO:
        _approve(access_request, reviewer=None, message="", meta=meta)
    else:
        _email_applicant(access_request, "request_received")
        _email_reviewers(access_request, resubmitted=False)
    return access_request


@transaction.atomic
def access_request_resubmit(
    *,
    actor,
    access_request: AccessRequest,
    intended_use: str,
    accepted_statement_ids: Collection[int],
    typed_name: str,
    shown_license_sha256: str | None = None,
    meta: RequestMeta | None = None,
) -> AccessRequest:
    """Answer a reviewer's request for changes; the earlier agreement and reviews stay in the history."""
    meta = meta or RequestMeta()
    access_request = _locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied("Only the applicant can resubmit this request.")
    _transition(access_request, RequestStatus.SUBMITTED)
    policy = _policy_of(access_request.model)
    intended_use, statements = _check_application(
        policy=policy,
        user=actor,
        intended_use=intended_use,
        accepted_statement_ids=accepted_statement_ids,
        typed_name=typed_name,
        shown_license_sha256=shown_license_sha256,
    )
    access_request.intended_use = intended_use
    access_request.submitted_at = timezone.now()
    access_request.save(update_fields=["status", "intended_use", "submitted_at"])
    agreement = _sign(
        access_request=access_request, policy=policy, statements=statements, typed_name=typed_name, meta=meta
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_RESUBMITTED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        **_signed(agreement, policy),
    )
    _email_reviewers(access_request, resubmitted=True)
    return access_request


@transaction.atomic
def access_request_withdraw(*, actor, access_request: AccessRequest, meta: RequestMeta | None = None) -> AccessRequest:
    access_request = _locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied("Only the applicant can withdraw this request.")
    _transition(access_request, RequestStatus.WITHDRAWN)
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


# --- reviewer ----------------------------------------------------------------------------


@transaction.atomic
def access_request_approve(
    *, actor, access_request: AccessRequest, message: str = "", meta: RequestMeta | None = None
) -> Grant:
    access_request = _locked(access_request)
    _check_reviewer(actor, access_request)
    return _approve(access_request, reviewer=actor, message=message.strip(), meta=meta or RequestMeta())


@transaction.atomic
def access_request_reject(
    *, actor, access_request: AccessRequest, reason: str, meta: RequestMeta | None = None
) -> AccessRequest:
    access_request = _locked(access_request)
    _check_reviewer(actor, access_request)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for the rejection; the applicant will see it.", field="message")
    _transition(access_request, RequestStatus.REJECTED)
    access_request.decided_at = timezone.now()
    access_request.reviewer_message = reason
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(request=access_request, reviewer=actor, decision=Decision.REJECTED, message=reason)
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_REJECTED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        reason=reason,
    )
    _email_applicant(access_request, "request_rejected", message=reason)
    return access_request


@transaction.atomic
def access_request_request_changes(
    *, actor, access_request: AccessRequest, message: str, meta: RequestMeta | None = None
) -> AccessRequest:
    access_request = _locked(access_request)
    _check_reviewer(actor, access_request)
    message = message.strip()
    if not message:
        raise ValidationFailed("Say what the applicant should change.", field="message")
    _transition(access_request, RequestStatus.CHANGES_REQUESTED)
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "reviewer_message"])
    review = Review.objects.create(
        request=access_request, reviewer=actor, decision=Decision.CHANGES_REQUESTED, message=message
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        message=message,
    )
    _email_applicant(access_request, "request_changes_requested", message=message)
    return access_request


@transaction.atomic
def grant_revoke(*, actor, grant: Grant, reason: str, meta: RequestMeta | None = None) -> Grant:
    """End a grant at once. New download URLs stop immediately."""
    grant = Grant.objects.select_for_update().select_related("model", "user", "request").get(pk=grant.pk)
    if not can_review(actor, grant.model):
        raise AccessDenied(f"You are not a reviewer of {grant.model.full_name}.")
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for revoking; the researcher will see it.", field="reason")
    if grant.status != GrantStatus.ACTIVE:
        raise InvalidTransition(f"This grant is already {grant.get_status_display().lower()}.")
    grant.status = GrantStatus.REVOKED
    grant.ended_at = timezone.now()
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["status", "ended_at", "revoked_by", "revoke_reason"])
    record(
        actor=actor,
        action=AuditAction.GRANT_REVOKED,
        target=grant,
        meta=meta,
        user=grant.user.email,
        model=grant.model.full_name,
        reason=reason,
    )
    _email_applicant(grant.request, "grant_revoked", message=reason)
    return grant


def grant_expire_due(*, now=None) -> int:
    """Mark grants past their expiry as expired, one transaction (and audit event) each."""
    now = now or timezone.now()
    expired = 0
    due = Grant.objects.filter(status=GrantStatus.ACTIVE, expires_at__lte=now).values_list("pk", flat=True)
    for grant_id in list(due):
        with transaction.atomic():
            grant = (
                Grant.objects.select_for_update()
                .select_related("user", "model")
                .filter(pk=grant_id, status=GrantStatus.ACTIVE, expires_at__lte=now)
                .first()
            )
            if grant is not None:
                _expire(grant, now)
                expired += 1
    return expired


@transaction.atomic
def agreement_renew(
    *,
    actor,
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
        raise AccessDenied("Only the grant holder can accept the licence.")
    if not Grant.objects.active().filter(pk=grant.pk).exists():
        raise InvalidTransition("This grant is no longer active; apply again instead.")
    policy = _policy_of(grant.model)
    access_request = grant.request
    current = access_request.agreements.order_by("-signed_at", "-id").first()
    if current is not None and current.license_id == policy.license_id:
        raise Conflict(f"You have already accepted {policy.license}.")
    _check_shown(policy, shown_license_sha256)
    profile = _check_profile(actor)
    statements = _check_statements(policy, accepted_statement_ids)
    _check_signature(profile, typed_name)
    agreement = _sign(
        access_request=access_request, policy=policy, statements=statements, typed_name=typed_name, meta=meta
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_AGREEMENT_RENEWED,
        target=grant,
        meta=meta,
        model=grant.model.full_name,
        previous_license_sha256=current.license_sha256 if current else "",
        **_signed(agreement, policy),
    )
    return agreement


# --- identity lapses ----------------------------------------------------------------------

IDENTITY_LAPSED = "identity_expired"


@transaction.atomic
def grants_suspend_for_identity(*, user, meta: RequestMeta | None = None) -> list[Grant]:
    """Suspend the user's active grants on models that require a verified identity."""
    suspended = []
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.ACTIVE, model__policy__require_identity=True)
        .select_related("model", "request")
    ):
        grant.status, grant.suspended_reason = GrantStatus.SUSPENDED, IDENTITY_LAPSED
        grant.save(update_fields=["status", "suspended_reason"])
        record(
            actor=None,
            action=AuditAction.GRANT_SUSPENDED,
            target=grant,
            meta=meta,
            user=user.email,
            model=grant.model.full_name,
            reason=IDENTITY_LAPSED,
        )
        suspended.append(grant)
    return suspended


@transaction.atomic
def grants_restore_after_identity(*, user, meta: RequestMeta | None = None) -> list[Grant]:
    """Lift identity suspensions once the user is verified again (grants past expiry stay ended)."""
    restored = []
    now = timezone.now()
    for grant in (
        Grant.objects.select_for_update()
        .filter(user=user, status=GrantStatus.SUSPENDED, suspended_reason=IDENTITY_LAPSED)
        .select_related("model")
    ):
        if grant.expires_at <= now:
            _expire(grant, now)
            continue
        grant.status, grant.suspended_reason = GrantStatus.ACTIVE, ""
        grant.save(update_fields=["status", "suspended_reason"])
        record(
            actor=None,
            action=AuditAction.GRANT_RESTORED,
            target=grant,
            meta=meta,
            user=user.email,
            model=grant.model.full_name,
        )
        restored.append(grant)
    return restored


# --- publisher ---------------------------------------------------------------------------


@transaction.atomic
def policy_set(
    *,
    actor,
    model: Model,
    license: LicenseVersion,
    statements: list[str],
    gating: Gating = Gating.MANUAL,
    min_intended_use_chars: int = 100,
    grant_days: int = 365,
    url_ttl_seconds: int = 300,
    max_downloads_per_file: int | None = None,
    require_identity: bool = False,
    require_mfa: bool = False,
    require_orcid: bool = False,
    require_institutional_email: bool = False,
    institutional_domains: list[str] | None = None,
    denied_email_domains: list[str] | None = None,
    blocked_countries: list[str] | None = None,
    meta: RequestMeta | None = None,
) -> AccessPolicy:
    """Create or change a model's access policy. Statements keep their rows while their text is unchanged."""
    if grant_days < 1:
        raise ValidationFailed("A grant lasts at least one day.", field="grant_days")
    if not 1 <= url_ttl_seconds <= 7 * 24 * 3600:
        raise ValidationFailed("A download URL lives between 1 second and 7 days.", field="url_ttl_seconds")
    if max_downloads_per_file is not None and max_downloads_per_file < 1:
        raise ValidationFailed(
            "Allow at least one download per file, or leave it empty.", field="max_downloads_per_file"
        )
    from django_countries import countries as known_countries

    from .freemail import default_denied_domains

    institutional_domains = _domains(institutional_domains or [])
    denied_email_domains = _domains(default_denied_domains() if denied_email_domains is None else denied_email_domains)
    blocked_countries = sorted({code.strip().upper() for code in blocked_countries or [] if code.strip()})
    unknown = [code for code in blocked_countries if code not in dict(known_countries)]
    if unknown:
        raise ValidationFailed(f"Unknown country codes: {', '.join(unknown)}.", field="blocked_countries")
    statements = [" ".join(text.split()) for text in statements if text.strip()]
    if len(set(statements)) != len(statements):
        raise ValidationFailed("Two attestation statements are the same.", field="statements")
    policy, created = AccessPolicy.objects.select_for_update().get_or_create(
        model=model,
        defaults={
            "license": license,
            "gating": gating,
            "min_intended_use_chars": min_intended_use_chars,
            "grant_days": grant_days,
            "url_ttl_seconds": url_ttl_seconds,
            "max_downloads_per_file": max_downloads_per_file,
            "require_identity": require_identity,
            "require_mfa": require_mfa,
            "require_orcid": require_orcid,
            "require_institutional_email": require_institutional_email,
            "institutional_domains": institutional_domains,
            "denied_email_domains": denied_email_domains,
            "blocked_countries": blocked_countries,
        },
    )
    changed = []
    for field, value in (
        ("license", license),
        ("gating", Gating(gating)),
        ("min_intended_use_chars", min_intended_use_chars),
        ("grant_days", grant_days),
        ("url_ttl_seconds", url_ttl_seconds),
        ("max_downloads_per_file", max_downloads_per_file),
        ("require_identity", require_identity),
        ("require_mfa", require_mfa),
        ("require_orcid", require_orcid),
        ("require_institutional_email", require_institutional_email),
        ("institutional_domains", institutional_domains),
        ("denied_email_domains", denied_email_domains),
        ("blocked_countries", blocked_countries),
    ):
        if getattr(policy, field) != value:
            setattr(policy, field, value)
            changed.append(field)
    if changed:
        policy.save()
    current = {s.text: s for s in policy.statements.filter(is_active=True)}
    retired = [s for text, s in current.items() if text not in statements]
    for statement in retired:
        statement.is_active = False
        statement.save(update_fields=["is_active"])
    for position, text in enumerate(statements):
        statement = current.get(text)
        if statement is None:
            AttestationStatement.objects.create(policy=policy, position=position, text=text)
            changed.append("statements")
        elif statement.position != position:
            statement.position = position
            statement.save(update_fields=["position"])
    if retired:
        changed.append("statements")
    if created or changed:
        record(
            actor=actor,
            action=AuditAction.ACCESS_POLICY_UPDATED,
            target=policy,
            meta=meta,
            model=model.full_name,
            created=created,
            fields=sorted(set(changed)),
            gating=policy.gating,
            license=str(policy.license),
            license_sha256=policy.license.sha256,
            grant_days=policy.grant_days,
            min_intended_use_chars=policy.min_intended_use_chars,
            url_ttl_seconds=policy.url_ttl_seconds,
            max_downloads_per_file=policy.max_downloads_per_file,
            requirements=sorted(
                name
                for name in ("require_identity", "require_mfa", "require_orcid", "require_institutional_email")
                if getattr(policy, name)
            ),
            institutional_domains=policy.institutional_domains,
            blocked_countries=policy.blocked_countries,
            attestation_sha256s=[s.sha256 for s in policy.statements.filter(is_active=True)],
        )
    return policy


def _domains(values) -> list[str]:
    cleaned = sorted({value.strip().lower().lstrip("@") for value in values if value and value.strip()})
    bad = [d for d in cleaned if "." not in d or " " in d or "@" in d]
    if bad:
        raise ValidationFailed(f"These are not e-mail domains: {', '.join(bad)}.", field="institutional_domains")
    return cleaned
