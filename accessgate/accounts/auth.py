"""Who is calling: a browser session or an `Authorization: Bearer <token>` header.

One place for every view (and the API's authentication class) to ask: `caller_of(request)`
returns a `Caller` (user, token, whether a second factor was passed) or None, and
`@caller_required` hands the view a `request.caller` or sends the visitor to log in.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta, client_ip
from accessgate.audit.refusals import refusal_note
from accessgate.core.errors import AccessDenied, NotAuthenticated
from accessgate.core.http import wants_json

from .mfa import session_passed_mfa
from .models import ApiToken, User
from .services import token_authenticate, token_rejection

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


LOGIN_OR_TOKEN = gettext_lazy("Log in or send 'Authorization: Bearer <token>' to download.")


@dataclass(frozen=True)
class Caller:
    user: User
    # The personal access token the request carried; None for a browser session.
    token: ApiToken | None
    # The session passed a second factor, or the token was created in such a session.
    mfa: bool

    @property
    def via(self) -> str:
        return "token" if self.token is not None else "session"


def bearer_secret(request) -> str | None:
    """The secret of a well-formed `Authorization: Bearer <token>` header, or None (no header, or
    a malformed one, which `request_identity` refuses)."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


def request_identity(request) -> tuple[User, ApiToken | None]:
    """Return (user, token). A bearer header wins over the session; a bad one is refused, not ignored."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            _rejected(request, "bad_token", None, scheme=scheme[:32])
            raise NotAuthenticated(gettext("Use 'Authorization: Bearer <token>' with a personal access token."))
        token = token_authenticate(secret.strip(), ip=client_ip(request))
        if token is None:
            reason, known = token_rejection(secret.strip())
            _rejected(request, reason, known)
            raise NotAuthenticated(
                gettext("This access token is invalid, expired or revoked. Create a new one in your account.")
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


def mfa_verified(request, token: ApiToken | None) -> bool:
    """Whether this request carries a passed second factor: the session's, or the token's."""
    if token is not None:
        return token.created_with_mfa
    return session_passed_mfa(request)


def require_scope(token, scope: str, model=None) -> None:
    """Refuse a token that lacks `scope` or is limited to other models. Sessions pass (token None)."""
    if token is None or token.allows(scope, model):
        return
    if str(scope) not in token.scopes:
        error = AccessDenied(
            gettext(
                "This access token (%(prefix)s…) does not have the '%(scope)s' scope. Create a token with it on your "
                "tokens page."
            )
            % {"prefix": token.prefix, "scope": scope},
            help_url=_tokens_url(),
        )
        error.reason = "token_scope"  # audited as download.refused by the download services
        raise error
    error = AccessDenied(
        gettext(
            "This access token (%(prefix)s…) is limited to other models than %(full_name)s. Use a token without that "
            "limit, or create one for this model on your tokens page."
        )
        % {"prefix": token.prefix, "full_name": model.full_name},
        help_url=_tokens_url(),
    )
    error.reason = "token_model"
    raise error


def _tokens_url() -> str:
    return reverse("accounts:tokens")


def caller_of(request) -> Caller | None:
    """The authenticated caller, or None for an anonymous visitor (a bad token raises)."""
    user, token = request_identity(request)
    if not user.is_authenticated:
        return None
    return Caller(user=user, token=token, mfa=mfa_verified(request, token))


def caller_required(view: Callable | None = None, *, message: "StrOrPromise" = LOGIN_OR_TOKEN):
    """Set `request.caller`; anonymous scripts get 401 (JSON), anonymous browsers the login page."""

    def decorate(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            caller = caller_of(request)
            if caller is None:
                if wants_json(request):
                    raise NotAuthenticated(str(message))
                return redirect_to_login(request.get_full_path())
            request.caller = caller
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate
