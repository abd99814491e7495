"""Who is calling: a browser session or an `Authorization: Bearer <token>` header."""

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta, client_ip
from accessgate.audit.refusals import refusal_note
from accessgate.errors import NotAuthenticated

from .services import token_authenticate, token_rejection


def request_identity(request):
    """Return (user, token). A bearer header wins over the session; a bad one is refused, not ignored."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            _rejected(request, "bad_token", None, scheme=scheme[:32])
            raise NotAuthenticated("Use 'Authorization: Bearer <token>' with a personal access token.")
        token = token_authenticate(secret.strip(), ip=client_ip(request))
        if token is None:
            reason, known = token_rejection(secret.strip())
            _rejected(request, reason, known)
            raise NotAuthenticated(
                "This access token is invalid, expired or revoked. Create a new one in your account."
            )
        return token.user, token
    return request.user, None


def _rejected(request, reason: str, token, **details) -> None:
    """Count a rejected token in the trail (`account.token.rejected`, aggregated per caller,
    reason and minute). A token we do not know is keyed by IP, and no part of it is kept."""
    refusal_note(
        action=AuditAction.ACCOUNT_TOKEN_REJECTED,
        reason=reason,
        actor=token.user if token is not None else None,
        target=token,
        meta=RequestMeta.from_request(request),
        path=request.path[:200],
        token_prefix=token.prefix if token is not None else "",
        **details,
    )


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
