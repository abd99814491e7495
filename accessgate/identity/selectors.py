from .models import IdentityVerification


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
