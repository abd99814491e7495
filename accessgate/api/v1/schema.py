"""drf-spectacular: every operation documents the scope it needs and the error shape."""

from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer
from .permissions import required_scope

ERRORS = {
    "400": "The input is not valid; `fields` says which parts.",
    "401": "No credentials, or the token is invalid, expired or revoked.",
    "403": "Signed in, but the role, the token's scope or the access policy does not allow this.",
    "404": "No such object, or not one you may see.",
    "409": "The object's state does not allow this (e.g. already decided), or what was shown is stale.",
    "429": "Too many requests, or the download quota is used up.",
}


class ApiAutoSchema(AutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        roles = getattr(self.view, "roles", ())
        scope = required_scope(self.view, self.method)
        lines = [f"**Token scope:** `{scope}`." if scope else "**Token scope:** any."]
        if roles:
            lines.append("**Roles:** " + ", ".join(str(role.label).lower() for role in roles) + ".")
        description = operation.get("description", "").strip()
        operation["description"] = "\n\n".join(part for part in [description, " ".join(lines)] if part)
        return operation

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, description in ERRORS.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code]["description"] = description
        return responses
