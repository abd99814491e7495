"""Institutional sign-off (policy option `require_signoff`).

The applicant names a signing official at an allowed institutional domain; the official gets
a single-use link that expires (a signed value carrying the sign-off's id and a nonce; resending
rotates the nonce, so only the newest link works), reads a summary of the request and the
agreement, and countersigns by typing their name, or declines with a reason. The request waits
for the countersignature before review or automatic approval; a decline rejects it.
"""

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.accounts.models import User, same_person_name
from accessgate.accounts.selectors import profile_for, verified_emails
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, InvalidTransition, NotFound, ValidationFailed
from accessgate.notifications.services import email_queue

from ..models import (
    REQUEST_TRANSITIONS,
    AccessPolicy,
    AccessRequest,
    Decision,
    Grant,
    GrantStatus,
    RequestStatus,
    Review,
)
from ..models.signoffs import SIGNOFF_TRANSITIONS, Signoff, SignoffStatus
from ..rules.needs import content_digest, latest_agreement
from ..rules.requirements import Facts, email_domain_allowed, evaluate
from ._checks import locked, policy_of
from ._emails import email_applicant, email_reviewers
from .door import grant_settle
from .reviews import approve

SALT = "accessgate.access.signoff"


def signoff_token(signoff: Signoff) -> str:
    return signing.dumps({"s": signoff.pk, "n": signoff.nonce}, salt=SALT)


def signoff_url(signoff: Signoff) -> str:
    return settings.SITE_URL + reverse("access:signoff_sign", args=[signoff_token(signoff)])


def signoff_by_token(token: str, *, now: datetime | None = None, lock: bool = False) -> Signoff:
    """The pending sign-off a link names, or the reason the link no longer works."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature as error:
        raise NotFound(_("This sign-off link is not valid.")) from error
    signoffs = Signoff.objects.select_for_update() if lock else Signoff.objects
    signoff = (
        signoffs.filter(pk=data.get("s"), nonce=data.get("n"))
        .select_related("request__model", "request__user", "agreement__license")
        .first()
    )
    if signoff is None:
        raise NotFound(_("This sign-off link is not valid, or a newer one was sent."))
    if signoff.status != SignoffStatus.PENDING:
        raise InvalidTransition(
            _("This sign-off link was already used (%(status)s).") % {"status": signoff.get_status_display().lower()}
        )
    if signoff.expires_at <= (now or timezone.now()):
        raise InvalidTransition(_("This sign-off link has expired; the applicant can send a new one."))
    return signoff


def signoff_domain_allowed(email: str, policy: AccessPolicy) -> bool:
    domains = policy.signoff_domains or policy.institutional_domains
    probe = AccessPolicy(institutional_domains=domains, denied_email_domains=policy.denied_email_domains)
    return email_domain_allowed(email, probe)


def _email_official(signoff: Signoff, access_request: AccessRequest) -> None:
    profile = profile_for(access_request.user)
    email_queue(
        to=[signoff.official_email],
        template="signoff_request",
        context={
            "official_name": signoff.official_name,
            "applicant_name": profile.full_name,
            "affiliation": profile.affiliation,
            "model_name": access_request.model.full_name,
            "url": signoff_url(signoff),
            "expires_at": signoff.expires_at,
        },
    )


@transaction.atomic
def signoff_request(
    *, actor: User, access_request: AccessRequest, official_name: str, official_email: str, meta=None
) -> Signoff:
    """Name (or replace) the signing official of an open application and e-mail them the link."""
    access_request = locked(access_request)
    if access_request.user_id != actor.pk:
        raise AccessDenied(_("Only the applicant names the signing official."))
    policy = policy_of(access_request.model)
    if not policy.require_signoff or access_request.renews_id:
        raise InvalidTransition(_("This request does not need a sign-off."))
    undecided = access_request.status in (RequestStatus.SUBMITTED, RequestStatus.APPEALED)
    if not undecided and _waiting_grant(access_request) is None:
        raise InvalidTransition(_("Only a submitted request can be signed off."))
    if not access_request.agreements.exists():
        raise InvalidTransition(_("Complete and sign the application first; the official countersigns it."))
    if access_request.signoffs.filter(status=SignoffStatus.SIGNED).exists():
        raise InvalidTransition(_("This request is already countersigned."))
    official_name, official_email = " ".join(official_name.split()), official_email.strip().lower()
    if not official_name:
        raise ValidationFailed(_("Give the signing official's full name."), field="official_name")
    if "@" not in official_email or not signoff_domain_allowed(official_email, policy):
        allowed = ", ".join(policy.signoff_domains or policy.institutional_domains) or _("an institutional domain")
        raise ValidationFailed(
            _("The official's address must be at %(allowed)s.") % {"allowed": allowed}, field="official_email"
        )
    if official_email in {e.lower() for e in verified_emails(actor)} | {actor.email.lower()}:
        raise ValidationFailed(_("The signing official must be someone other than you."), field="official_email")
    now = timezone.now()
    for previous in access_request.signoffs.select_for_update().filter(status=SignoffStatus.PENDING):
        SIGNOFF_TRANSITIONS.move(previous, SignoffStatus.REPLACED)
        previous.decided_at = now
        previous.save(update_fields=["status", "decided_at"])
    # Ignored: a request awaiting sign-off has its agreement.
    signoff = Signoff.objects.create(  # type: ignore[misc]
        request=access_request,
        agreement=access_request.agreements.order_by("-signed_at", "-id").first(),
        official_name=official_name,
        official_email=official_email,
        nonce=secrets.token_urlsafe(16),
        sent_at=now,
        expires_at=now + timedelta(days=policy.signoff_link_days),
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_SIGNOFF_REQUESTED,
        target=signoff,
        meta=meta,
        model=access_request.model.full_name,
        request_id=access_request.pk,
        official_name=official_name,
        official_email=official_email,
        expires_at=signoff.expires_at.isoformat(),
    )
    _email_official(signoff, access_request)
    return signoff


@transaction.atomic
def signoff_resend(*, actor: User, signoff: Signoff, meta=None) -> Signoff:
    """A new link (the old one stops working) with a fresh expiry, also after the old one expired."""
    signoff = Signoff.objects.select_for_update().select_related("request__model", "request__user").get(pk=signoff.pk)
    if signoff.request.user_id != actor.pk:
        raise AccessDenied(_("Only the applicant can resend the sign-off link."))
    SIGNOFF_TRANSITIONS.check(signoff.status, SignoffStatus.SIGNED, state=signoff.get_status_display().lower())
    policy = policy_of(signoff.request.model)
    now = timezone.now()
    signoff.nonce = secrets.token_urlsafe(16)
    signoff.sent_at, signoff.expires_at = now, now + timedelta(days=policy.signoff_link_days)
    signoff.sent_count += 1
    signoff.save(update_fields=["nonce", "sent_at", "expires_at", "sent_count"])
    record(
        actor=actor,
        action=AuditAction.ACCESS_SIGNOFF_RESENT,
        target=signoff,
        meta=meta,
        model=signoff.request.model.full_name,
        official_email=signoff.official_email,
        sent_count=signoff.sent_count,
        expires_at=signoff.expires_at.isoformat(),
    )
    _email_official(signoff, signoff.request)
    return signoff


def _waiting_grant(access_request: AccessRequest) -> Grant | None:
    """The request's pending grant (a direct grant signed after approval), locked."""
    return (
        Grant.objects.select_for_update(of=("self",))
        .filter(request=access_request, status=GrantStatus.PENDING)
        .select_related("model", "user", "request")
        .first()
    )


def signoffs_void_changed(access_request: AccessRequest, *, actor: User, meta: RequestMeta | None) -> Signoff | None:
    """Inside a resubmission: a countersignature (or an unanswered link) that does not cover the
    new content is void, audited, and the same official is asked again (a new link, e-mailed).
    Returns the new sign-off, or None when nothing changed for the official."""
    agreement = latest_agreement(access_request)
    official = None
    now = timezone.now()
    for signoff in access_request.signoffs.select_for_update().filter(
        status__in=[SignoffStatus.PENDING, SignoffStatus.SIGNED]
    ):
        digest = content_digest(agreement, official_name=signoff.official_name, official_email=signoff.official_email)
        if signoff.status == SignoffStatus.SIGNED and signoff.content_sha256 == digest:
            continue
        previous = signoff.status
        SIGNOFF_TRANSITIONS.move(signoff, SignoffStatus.VOID)
        signoff.decided_at = signoff.decided_at or now
        signoff.save(update_fields=["status", "decided_at"])
        record(
            actor=actor,
            action=AuditAction.ACCESS_SIGNOFF_VOIDED,
            target=signoff,
            meta=meta,
            model=access_request.model.full_name,
            request_id=access_request.pk,
            official_email=signoff.official_email,
            previous_status=previous,
            covered_sha256=signoff.content_sha256,
            content_sha256=digest,
        )
        official = official or signoff
    if official is None or agreement is None:
        return None
    policy = policy_of(access_request.model)
    renewed = Signoff.objects.create(
        request=access_request,
        agreement=agreement,
        official_name=official.official_name,
        official_email=official.official_email,
        nonce=secrets.token_urlsafe(16),
        sent_at=now,
        expires_at=now + timedelta(days=policy.signoff_link_days),
    )
    record(
        actor=actor,
        action=AuditAction.ACCESS_SIGNOFF_REQUESTED,
        target=renewed,
        meta=meta,
        model=access_request.model.full_name,
        request_id=access_request.pk,
        official_name=renewed.official_name,
        official_email=renewed.official_email,
        expires_at=renewed.expires_at.isoformat(),
        replaces=official.pk,
    )
    _email_official(renewed, access_request)
    return renewed


def _frozen_digest(signoff: Signoff) -> str:
    agreement = signoff.agreement
    frozen = {
        "agreement_id": agreement.pk,
        "license_sha256": agreement.license_sha256,
        "attestation_sha256s": [a["sha256"] for a in agreement.attestations],
        "intended_use": agreement.intended_use,
        "applicant_signature": agreement.typed_name,
        "official_name": signoff.official_name,
        "official_email": signoff.official_email,
        "countersignature": signoff.typed_name,
        # Ignored: a decided sign-off has its decision time.
        "decided_at": signoff.decided_at.isoformat(),  # type: ignore[union-attr]
    }
    return hashlib.sha256(json.dumps(frozen, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def signoff_countersign(*, token: str, typed_name: str, meta: RequestMeta | None = None) -> Signoff:
    """The official countersigns (no account: the link is the credential). Then the request
    goes to the reviewers, or is approved at once under automatic gating."""
    meta = meta or RequestMeta()
    signoff = signoff_by_token(token, lock=True)
    if not same_person_name(typed_name, signoff.official_name):
        raise ValidationFailed(
            _("Type your full name as the applicant gave it (%(official_name)s) to countersign.")
            % {"official_name": signoff.official_name},
            field="typed_name",
        )
    access_request = locked(signoff.request)
    waiting = _waiting_grant(access_request)
    undecided = access_request.status in (RequestStatus.SUBMITTED, RequestStatus.APPEALED)
    if not undecided and waiting is None:
        raise InvalidTransition(_("This request is no longer waiting for a decision."))
    SIGNOFF_TRANSITIONS.move(signoff, SignoffStatus.SIGNED)
    signoff.decided_at = timezone.now()
    signoff.typed_name = " ".join(typed_name.split())
    signoff.ip, signoff.user_agent = meta.ip, meta.user_agent
    signoff.agreement_sha256 = _frozen_digest(signoff)
    signoff.content_sha256 = content_digest(
        signoff.agreement, official_name=signoff.official_name, official_email=signoff.official_email
    )
    signoff.save()
    record(
        actor=None,
        action=AuditAction.ACCESS_SIGNOFF_SIGNED,
        target=signoff,
        meta=meta,
        model=access_request.model.full_name,
        request_id=access_request.pk,
        agreement_id=signoff.agreement_id,
        official_name=signoff.official_name,
        official_email=signoff.official_email,
        typed_name=signoff.typed_name,
        agreement_sha256=signoff.agreement_sha256,
        content_sha256=signoff.content_sha256,
    )
    if waiting is not None:  # a grant given before the application was signed: the door decides
        grant_settle(waiting, actor=None, meta=meta, now=signoff.decided_at)
        return signoff
    if access_request.status == RequestStatus.APPEALED:
        email_reviewers(access_request, resubmitted=False)  # the appeal can be decided now
        return signoff
    policy = policy_of(access_request.model)
    facts = Facts(access_request.user)
    if policy.gating == "auto" and all(r.met for r in evaluate(policy, facts) if r.key != "profile"):
        approve(access_request, reviewer=None, message="", meta=RequestMeta())
    else:
        email_reviewers(access_request, resubmitted=False)
    return signoff


@transaction.atomic
def signoff_decline(*, token: str, reason: str, meta: RequestMeta | None = None) -> Signoff:
    """The official declines: the request is rejected with their reason."""
    meta = meta or RequestMeta()
    signoff = signoff_by_token(token, lock=True)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Give a reason; the applicant will see it."), field="reason")
    access_request = locked(signoff.request)
    SIGNOFF_TRANSITIONS.move(signoff, SignoffStatus.DECLINED)
    signoff.decided_at = timezone.now()
    signoff.decline_reason = reason
    signoff.ip, signoff.user_agent = meta.ip, meta.user_agent
    signoff.save()
    record(
        actor=None,
        action=AuditAction.ACCESS_SIGNOFF_DECLINED,
        target=signoff,
        meta=meta,
        model=access_request.model.full_name,
        request_id=access_request.pk,
        official_email=signoff.official_email,
        reason=reason,
    )
    message = f"Your signing official ({signoff.official_name}) declined: {reason}"
    REQUEST_TRANSITIONS.move(access_request, RequestStatus.REJECTED)
    access_request.decided_at = signoff.decided_at
    access_request.reviewer_message = message
    access_request.save(update_fields=["status", "decided_at", "reviewer_message"])
    review = Review.objects.create(request=access_request, reviewer=None, decision=Decision.REJECTED, message=message)
    record(
        actor=None,
        action=AuditAction.ACCESS_REQUEST_REJECTED,
        target=access_request,
        meta=meta,
        model=access_request.model.full_name,
        review_id=review.pk,
        reason=message,
        by_signing_official=True,
    )
    email_applicant(access_request, "request_rejected", message=message)
    return signoff
