"""Who is calling the API: `Authorization: Bearer <token>`, or a browser session (with CSRF).

The bearer check is the one the download endpoints use (`accounts.services.token_authenticate`);
a bad or revoked token is refused, never silently ignored in favour of the session.
"""

from django.utils.translation import gettext
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accessgate.accounts.services import token_authenticate
from accessgate.audit.context import client_ip

REALM = 'Bearer realm="accessgate"'


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise exceptions.AuthenticationFailed(
                gettext("Use 'Authorization: Bearer <token>' with a personal access token.")
            )
        token = token_authenticate(secret.strip(), ip=client_ip(request))
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                gettext("This access token is invalid, expired or revoked. Create a new one in your account.")
            )
        return token.user, token

    def authenticate_header(self, request):
        return REALM


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token (Account → Access tokens) with the scope the operation needs.",
        }


def caller_token(request):
    """The ApiToken of a bearer call, or None for a session."""
    return request.auth if isinstance(request.successful_authenticator, BearerTokenAuthentication) else None
