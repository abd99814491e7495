from rest_framework.generics import GenericAPIView

from accessgate.accounts.auth import mfa_verified, require_scope
from accessgate.audit.context import RequestMeta

from ..auth import caller_token
from ..permissions import required_scope


class ApiView(GenericAPIView):
    # Thin views: parse, call the service the HTML page calls, serialize. (Comments, not a
    # docstring: drf-spectacular would put a docstring into every operation's description.)
    # `roles`: roles the caller needs (empty: any signed-in user). `scope`/`scopes`: the token
    # scope (None: any). `field_aliases`: service field names → this API's field names.

    # No HEAD: a HEAD on a manifest or an export file would issue URLs and write audit events.
    http_method_names = ["get", "post", "options"]
    roles: tuple = ()
    scope: str | None = None
    scopes: dict[str, str | None] = {}
    field_aliases: dict[str, str] = {}

    @property
    def token(self):
        return caller_token(self.request)

    def meta(self) -> RequestMeta:
        return RequestMeta.from_request(self.request._request)

    def mfa_verified(self) -> bool:
        return mfa_verified(self.request._request, self.token)

    def check_model(self, model) -> None:
        """A token limited to some models may act only on those."""
        scope = required_scope(self, self.request.method)
        if scope:
            require_scope(self.token, scope, model)
