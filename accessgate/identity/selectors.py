from accessgate.accounts.models import same_person_name
from accessgate.accounts.selectors import profile_for

from .models import IdentityVerification


def name_matches(verification: IdentityVerification, *, profile_name: str | None = None) -> bool | None:
    """Whether the verified name is the profile name (None when there is nothing to compare)."""
    if not verification.verified_name:
        return None
    if profile_name is None:
        profile_name = profile_for(verification.user).full_name
    return same_person_name(verification.verified_name, profile_name)


def active_verification(user) -> IdentityVerification | None:
    if not user.is_authenticated:
        return None
    return IdentityVerification.objects.active().filter(user=user).order_by("-verified_at").first()


def latest_verification(user) -> IdentityVerification | None:
    if not user.is_authenticated:
        return None
    return IdentityVerification.objects.filter(user=user).order_by("-created_at").first()


def verifications_of(user):
    return IdentityVerification.objects.filter(user=user).order_by("-created_at")
