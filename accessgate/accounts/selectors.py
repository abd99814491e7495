from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from .models import ApiToken, Profile, TokenScope
from .roles import STAFF_SCOPE_ROLES, Role, roles_of

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


User = get_user_model()


def profile_for(user) -> Profile:
    """The user's profile, or an unsaved empty one if they have not filled it yet."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)


def users_with_role(role: Role):
    return User.objects.filter(is_active=True, groups__name=role.value).distinct()


def user_by_email(email: str):
    return User.objects.filter(email__iexact=email.strip()).first()


def tokens_of(user):
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def token_scope_choices(user) -> list[tuple[str, "StrOrPromise"]]:
    """The scopes this user may put on a token: staff scopes only with the matching role."""
    held = roles_of(user)
    return [
        (scope.value, scope.label)
        for scope in TokenScope
        if scope.value not in STAFF_SCOPE_ROLES or held & set(STAFF_SCOPE_ROLES[scope.value])
    ]


def has_mfa(user) -> bool:
    """A second factor is set up (an authenticator app or a security key)."""
    if not user.is_authenticated:
        return False
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def verified_orcid(user) -> str | None:
    """The ORCID iD proven by signing in to ORCID (not one typed into the profile)."""
    if not user.is_authenticated:
        return None
    return SocialAccount.objects.filter(user=user, provider="orcid").values_list("uid", flat=True).first()


def verified_emails(user) -> list[str]:
    if not user.is_authenticated:
        return []
    return list(EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True))
