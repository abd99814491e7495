"""Small facts about an HTTP request that several layers need."""

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import _User


class AuthenticatedRequest(HttpRequest):
    """For annotations: a request whose user is signed in (a view behind `login_required` or
    `role_required`)."""

    user: "_User"


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    # Browsers never send Authorization to us; scripts do (Bearer, or a wrong scheme we refuse).
    return "application/json" in accept or "Authorization" in request.headers


def body_limit(limit):
    """Give a view its own request-body limit in bytes (`limit` is called per request, so it may
    read a setting); `http_guards.BodyLimitMiddleware` applies it before the body is read. Put it
    outermost, above the view's other decorators."""

    def decorate(view):
        view.accessgate_body_limit = limit
        return view

    return decorate
