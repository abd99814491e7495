from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .roles import STAFF_ROLES, has_role
from .selectors import has_mfa

STAFF_PREFIXES = ("/review/", "/publish/", "/audit/", "/admin/")
PUBLIC_PATHS = ("/audit/public-key.pem",)


class StaffMFARequiredMiddleware:
    """Reviewers, publishers, auditors and admins must set up a second factor before any staff page opens."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if (
            path.startswith(STAFF_PREFIXES)
            and path not in PUBLIC_PATHS
            and request.user.is_authenticated
            and has_role(request.user, *STAFF_ROLES)
            and not has_mfa(request.user)
        ):
            messages.warning(
                request,
                _("Staff accounts need two-factor authentication. Set up an authenticator app to continue."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


class AccountTransactionMiddleware:
    """POSTs to allauth's account pages run in one transaction, so the audit events our signal
    receivers write commit together with allauth's change, or not at all (invariant 1)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.startswith("/accounts/"):
            with transaction.atomic():
                return self.get_response(request)
        return self.get_response(request)


class LoginThrottleStatusMiddleware:
    """allauth answers a throttled log-in with the form and an error message, status 200.
    Scripts (and the issue's tester) read that as "not throttled"; we send 429 with
    Retry-After on the same page, so the throttle is visible to every client."""

    RETRY_AFTER_SECONDS = 300

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_accessgate_login_throttled", False) and response.status_code == 200:
            response.status_code = 429
            response.reason_phrase = "Too Many Requests"
            response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response
