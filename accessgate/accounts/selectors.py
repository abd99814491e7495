from django.contrib.auth import get_user_model

from .models import ApiToken, Profile
from .roles import Role

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
