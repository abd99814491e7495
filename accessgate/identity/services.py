"""Identity verification: starting a check, applying what the provider says, expiry."""

import logging
from datetime import timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accessgate.accounts.models import User
from accessgate.accounts.selectors import profile_for
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.core.errors import AccessDenied, Conflict, PolicyNotMet, ProviderUnavailable, WebhookRejected
from accessgate.core.i18n import local_date
from accessgate.core.ratelimit import check_rate
from accessgate.core.tasks import queue_after_commit
from accessgate.notifications.services import email_queue

from .models import VERIFICATION_TRANSITIONS, IdentityVerification, VerificationStatus, WebhookEvent
from .providers import SessionState, get_provider
from .selectors import name_matches
from .signals import verification_lapsed, verification_restored

logger = logging.getLogger(__name__)

HANDLED_EVENTS = {
    "identity.verification_session.processing",
    "identity.verification_session.verified",
    "identity.verification_session.requires_input",
    "identity.verification_session.canceled",
    "identity.verification_session.redacted",
}

# What to tell the researcher for Stripe's `last_error.code` values.
RETRY_ADVICE = {
    "consent_declined": gettext_lazy("You declined the consent step. Start again and accept it to continue."),
    "under_supported_age": gettext_lazy("Stripe could not verify people under the supported age."),
    "country_not_supported": gettext_lazy(
        "Documents from this country are not supported. Try another identity document."
    ),
    "document_expired": gettext_lazy("The document has expired. Try again with a valid one."),
    "document_type_not_supported": gettext_lazy(
        "This kind of document is not accepted. Use a passport, ID card or driving licence."
    ),
    "document_unverified_other": gettext_lazy(
        "The document could not be verified. Try again in good light, with the whole document in the frame."
    ),
    "selfie_document_missing_photo": gettext_lazy(
        "The document has no photo to compare with. Use a document with your photo."
    ),
    "selfie_face_mismatch": gettext_lazy("The selfie did not match the document photo. Try again, facing the camera."),
    "selfie_manipulated": gettext_lazy("The selfie could not be accepted. Take a new one directly with your camera."),
    "selfie_unverified_other": gettext_lazy("The selfie could not be verified. Try again in good light."),
}
DEFAULT_ADVICE = gettext_lazy("The check did not complete. Start a new verification to try again.")


def advice_for(code: str) -> str:
    return str(RETRY_ADVICE.get(code, DEFAULT_ADVICE))


def verification_start(*, actor: User, return_url: str, meta: RequestMeta | None = None) -> str:
    """Create a session at the provider and return the URL to send the researcher to."""
    provider = get_provider()
    if provider is None:
        raise PolicyNotMet(gettext("Identity verification is not available on this portal."))
    current = IdentityVerification.objects.active().filter(user=actor).order_by("-expires_at").first()
    if current and current.expires_at - timezone.now() > timedelta(days=30):
        raise Conflict(
            gettext("Your identity is already verified until %(expires_at)s.")
            % {"expires_at": local_date(current.expires_at)}
        )
    check_rate(
        f"identity-start:{actor.pk}",
        settings.ACCESSGATE_IDENTITY_START_RATE_LIMIT,
        "Too many verification attempts. Please wait an hour before trying again.",
    )
    # The provider call comes first: if our commit then failed, only an unused session would
    # remain at the provider, never a row pointing at nothing.
    try:
        session_id, url = provider.start(user=actor, return_url=return_url)
    except Exception as error:
        logger.warning("Identity provider unavailable: %s", error)
        raise ProviderUnavailable(
            gettext(
                "The identity provider cannot be reached right now; nothing was changed. Try again in a few minutes."
            )
        ) from error
    with transaction.atomic():
        verification = IdentityVerification.objects.create(user=actor, provider=provider.name, session_id=session_id)
        record(
            actor=actor,
            action=AuditAction.IDENTITY_VERIFICATION_STARTED,
            target=verification,
            meta=meta,
            provider=provider.name,
            session_id=session_id,
        )
    return url


@transaction.atomic
def verification_apply(*, verification: IdentityVerification, state: SessionState) -> bool:
    """Bring our record in line with the provider's session. Idempotent; returns whether it changed."""
    verification = IdentityVerification.objects.select_for_update().select_related("user").get(pk=verification.pk)
    now = timezone.now()
    common: dict[str, Any] = {"provider": verification.provider, "session_id": verification.session_id}
    changed = False
    if state.redacted and verification.redacted_at is None:
        verification.verified_name, verification.document_country, verification.redacted_at = "", "", now
        verification.save(update_fields=["verified_name", "document_country", "redacted_at", "updated_at"])
        record(actor=None, action=AuditAction.IDENTITY_VERIFICATION_REDACTED, target=verification, **common)
        changed = True
    target = VerificationStatus(state.status) if state.status in VerificationStatus.values else None
    if target is None or not VERIFICATION_TRANSITIONS.can(verification.status, target):
        return changed  # nothing new, or a session we no longer follow (expired)
    VERIFICATION_TRANSITIONS.move(verification, target)
    if target == VerificationStatus.VERIFIED:
        verification.verified_at = now
        verification.expires_at = now + timedelta(days=settings.ACCESSGATE_IDENTITY_VALID_DAYS)
        if not verification.redacted_at:
            verification.verified_name = f"{state.first_name} {state.last_name}".strip()
            verification.document_country = state.document_country[:2]
        verification.last_error_code = verification.last_error_reason = ""
        verification.save()
        record(
            actor=None,
            action=AuditAction.IDENTITY_VERIFICATION_VERIFIED,
            target=verification,
            document_country=verification.document_country,
            name_matches=name_matches(verification),
            expires_at=verification.expires_at.isoformat(),
            **common,
        )
        verification_restored.send(sender=IdentityVerification, user=verification.user)
    elif target == VerificationStatus.REQUIRES_INPUT:
        verification.last_error_code, verification.last_error_reason = state.error_code, state.error_reason
        verification.save()
        record(
            actor=None,
            action=AuditAction.IDENTITY_VERIFICATION_REQUIRES_INPUT,
            target=verification,
            error_code=state.error_code,
            **common,
        )
        email_queue(
            to=[verification.user.email],
            template="identity_requires_input",
            context={
                "name": profile_for(verification.user).full_name or verification.user.email,
                "advice": advice_for(state.error_code),
                "url": settings.SITE_URL + reverse("identity:status"),
            },
        )
    else:
        verification.save()
        action = {
            VerificationStatus.PROCESSING: AuditAction.IDENTITY_VERIFICATION_PROCESSING,
            VerificationStatus.CANCELED: AuditAction.IDENTITY_VERIFICATION_CANCELED,
        }.get(target)
        if action:
            record(actor=None, action=action, target=verification, **common)
    return True


def verification_sync(verification: IdentityVerification) -> bool:
    """Fetch the session from the provider's API (never from the browser) and apply it."""
    provider = get_provider()
    if provider is None or provider.name != verification.provider:
        return False
    return verification_apply(verification=verification, state=provider.fetch(verification.session_id))


def stripe_webhook_receive(*, payload: bytes, signature: str) -> str:
    """Verify a Stripe webhook before reading anything, then queue a sync of its session once."""
    if not settings.ACCESSGATE_STRIPE_WEBHOOK_SECRET:
        raise WebhookRejected(gettext("Stripe webhooks are not configured."))
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.ACCESSGATE_STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise WebhookRejected(gettext("Invalid Stripe-Signature or payload.")) from error
    if event.type not in HANDLED_EVENTS:
        return "ignored"
    session_id = event.to_dict().get("data", {}).get("object", {}).get("id", "")
    verification = IdentityVerification.objects.filter(provider="stripe", session_id=session_id).first()
    if verification is None:
        return "unknown session"
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookEvent.objects.create(provider="stripe", event_id=event.id, type=event.type)
        except IntegrityError:
            return "duplicate"
        verification_sync_later(verification.pk)
    return "accepted"


def verification_sync_later(verification_id: int) -> None:
    """Queue a sync with the provider (after commit when called inside a transaction). With the
    broker down, the return page and the daily job sync it later."""
    queue_after_commit(
        "accessgate.identity.tasks.sync_verification",
        verification_id,
        what=f"the sync of verification {verification_id}",
    )


def dev_complete(
    *, actor: User, session_id: str, outcome: str, meta: RequestMeta | None = None
) -> IdentityVerification:
    """The development provider's buttons: pretend the check passed or failed."""
    if settings.ACCESSGATE_IDENTITY_PROVIDER != "dev" or not settings.DEBUG:
        raise AccessDenied(gettext("The development identity provider is switched off."))
    verification = IdentityVerification.objects.filter(provider="dev", session_id=session_id, user=actor).first()
    if verification is None:
        raise AccessDenied(gettext("No such verification of yours."))
    profile = profile_for(actor)
    first, _, last = profile.full_name.partition(" ")
    if outcome == "verified":
        state = SessionState(
            session_id, "verified", first_name=first, last_name=last, document_country=str(profile.country)
        )
    else:
        state = SessionState(session_id, "requires_input", error_code="document_unverified_other")
    verification_apply(verification=verification, state=state)
    verification.refresh_from_db()
    return verification


def verification_expire_due(*, now=None) -> int:
    """Expire verifications past their date, suspend the grants that needed them, tell the user."""
    now = now or timezone.now()
    expired = 0
    due = IdentityVerification.objects.filter(status=VerificationStatus.VERIFIED, expires_at__lte=now)
    for verification_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            verification = (
                IdentityVerification.objects.select_for_update()
                .select_related("user")
                .filter(pk=verification_id, status=VerificationStatus.VERIFIED)
                .first()
            )
            if verification is None:
                continue
            VERIFICATION_TRANSITIONS.move(verification, VerificationStatus.EXPIRED)
            verification.save(update_fields=["status", "updated_at"])
            record(
                actor=None,
                action=AuditAction.IDENTITY_VERIFICATION_EXPIRED,
                target=verification,
                provider=verification.provider,
                session_id=verification.session_id,
            )
            user = verification.user
            if IdentityVerification.objects.active(now=now).filter(user=user).exists():
                continue  # a newer verification still holds
            suspended = [
                label
                for _, labels in verification_lapsed.send(sender=IdentityVerification, user=user)
                for label in labels or ()
            ]
            email_queue(
                to=[user.email],
                template="identity_expired",
                context={
                    "name": profile_for(user).full_name or user.email,
                    "models": suspended,
                    "url": settings.SITE_URL + reverse("identity:status"),
                },
            )
            expired += 1
    return expired
