"""Who is calling: a browser session or an `Authorization: Bearer <token>` header."""

from accessgate.audit.context import client_ip
from accessgate.errors import NotAuthenticated

from .services import token_authenticate


def request_identity(request):
    """Return (user, token). A bearer header wins over the session; a bad one is refused, not ignored."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("Use 'Authorization: Bearer <token>' with a personal access token.")
        token = token_authenticate(secret.strip(), ip=client_ip(request))
        if token is None:
            raise NotAuthenticated(
                "This access token is invalid, expired or revoked. Create a new one in your account."
            )
        return token.user, token
    return request.user, None


def session_passed_mfa(request) -> bool:
    """allauth records how this session's user logged in; "mfa" is there after a second factor.
    (Its accessor also checks that the records belong to the current user.)"""
    from allauth.account.internal.flows.login import get_authentication_records

    if not hasattr(request, "session") or not request.user.is_authenticated:
        return False
    return any(entry.get("method") == "mfa" for entry in get_authentication_records(request, request.user))


def mfa_verified(request, token) -> bool:
    """Whether this request carries a passed second factor: the session's, or the token's."""
    if token is not None:
        return token.created_with_mfa
    return session_passed_mfa(request)


def require_scope(token, scope: str, model=None) -> None:
    """Refuse a token that lacks `scope` or is limited to other models. Sessions pass (token None)."""
    from accessgate.errors import AccessDenied

    if token is None or token.allows(scope, model):
        return
    if str(scope) not in token.scopes:
        raise AccessDenied(
            f"This access token ({token.prefix}…) does not have the '{scope}' scope. "
            "Create a token with it on your tokens page.",
            help_url=_tokens_url(),
        )
    raise AccessDenied(
        f"This access token ({token.prefix}…) is limited to other models than {model.full_name}. "
        "Use a token without that limit, or create one for this model on your tokens page.",
        help_url=_tokens_url(),
    )


def _tokens_url() -> str:
    from django.urls import reverse

    return reverse("accounts:tokens")
