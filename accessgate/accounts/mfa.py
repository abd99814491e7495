"""Second factors, through allauth's public surface and `pyotp`.

The one place the portal touches allauth's MFA: its `Authenticator` model and adapter
(public API), standard RFC 6238 codes from `pyotp` (allauth's defaults: 6 digits, 30 s), and
ONE internal import, `get_authentication_records`, because allauth has no public way to ask
whether this session passed a second factor. It is pinned with django-allauth==65.22.1 in
requirements.txt; re-check it when upgrading (tests/accounts/test_staff_mfa.py fails if it moves).
"""

import pyotp
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.adapter import get_adapter
from allauth.mfa.models import Authenticator

from .models import User


def session_passed_mfa(request) -> bool:
    """allauth records how this session's user logged in; "mfa" is there after a second factor.
    (Its accessor also checks that the records belong to the current user.)"""
    if not hasattr(request, "session") or not request.user.is_authenticated:
        return False
    return any(entry.get("method") == "mfa" for entry in get_authentication_records(request, request.user))


def totp_new_secret() -> str:
    return pyotp.random_base32()


def totp_activate(user: User, secret: str) -> Authenticator:
    """Store an authenticator app for `user`, encrypted the way allauth stores its own."""
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": get_adapter().encrypt(secret)}
    )


def has_totp(user: User) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def totp_secret(user: User) -> str | None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return get_adapter().decrypt(authenticator.data["secret"]) if authenticator else None


def totp_now(secret: str) -> str:
    """The current code of an authenticator app (demo log-ins, tests)."""
    return pyotp.TOTP(secret).now()
