"""Shared test helpers (plain functions and values, not fixtures)."""

from django.utils import timezone

from accessgate.identity.models import IdentityVerification
from accessgate.identity.providers import SessionState
from accessgate.identity.services import verification_apply


def verify(user, *, name="Grace Holder", country="NL"):
    first, _, last = name.partition(" ")
    verification = IdentityVerification.objects.create(
        user=user, provider="stripe", session_id=f"vs_{user.pk}_{timezone.now().timestamp()}"
    )
    verification_apply(
        verification=verification,
        state=SessionState(
            verification.session_id, "verified", first_name=first, last_name=last, document_country=country
        ),
    )
    verification.refresh_from_db()
    return verification
