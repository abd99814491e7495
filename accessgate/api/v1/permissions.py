"""Who may call an operation: the caller's role (as on the HTML pages) and the token's scope.

Views declare `roles` (empty: any signed-in user) and `scope` (None: any token may call it),
or `scopes` per HTTP method. Session callers are checked by role alone, like the pages;
staff sessions also need a second factor set up, as `StaffMFARequiredMiddleware` demands.
A token must hold the scope, and when it is limited to some models, the model in question
(`ApiView.check_model`).
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import permissions

from accessgate.accounts.auth import require_scope
from accessgate.accounts.roles import STAFF_ROLES, has_role
from accessgate.accounts.selectors import has_mfa
from accessgate.core.errors import AccessDenied, NotAuthenticated

from .auth import caller_token


def required_scope(view, method: str | None) -> str | None:
    scopes = getattr(view, "scopes", None) or {}
    return scopes.get(method, getattr(view, "scope", None))


class ScopeAndRole(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            raise NotAuthenticated(_("Send 'Authorization: Bearer <token>' or sign in to use the API."))
        roles = getattr(view, "roles", ())
        if roles and not has_role(user, *roles):
            raise AccessDenied(_("Your account does not have the role this operation needs."))
        token = caller_token(request)
        if token is None:
            if roles and set(roles) <= set(STAFF_ROLES) and not has_mfa(user):
                raise AccessDenied(
                    _("Staff accounts need two-factor authentication. Set up an authenticator app to continue."),
                    help_url=reverse("mfa_activate_totp"),
                )
            return True
        scope = required_scope(view, request.method)
        # A download's service checks the scope itself, so that its refusal is audited.
        if scope and not getattr(view, "service_checks_scope", False):
            require_scope(token, scope)  # the same check (and message) as the download endpoints
        return True
