"""One error shape for every API response that is not a success:

    {"error": {"code": "...", "message": "...", "help_url": "..." | null, "fields": {name: [messages]}}}

Domain errors keep their code, status and help link; DRF's own errors (validation, parse,
authentication, permission, 404, 405, 406, 415, throttling) and Django's Http404 and
PermissionDenied are mapped here, in the one place.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from accessgate.core.errors import DomainError, NotAuthenticated

from .auth import REALM

CODES = {
    exceptions.ValidationError: ("invalid", gettext_lazy("Check the fields listed in `fields`.")),
    exceptions.ParseError: ("parse_error", None),
    exceptions.AuthenticationFailed: ("not_authenticated", None),
    exceptions.NotAuthenticated: ("not_authenticated", None),
    exceptions.PermissionDenied: ("access_denied", None),
    exceptions.NotFound: ("not_found", None),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", None),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    exceptions.Throttled: ("rate_limited", None),
}


def error_body(code: str, message: str, *, help_url: str | None = None, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "help_url": help_url, "fields": fields or {}}}


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field" or "field.sub" or "items.0": [messages]}."""
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else f"{prefix}{key}"
            out.update(_flatten(value, f"{name}."))
        return out
    if isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        out = {}
        for index, value in enumerate(detail):
            out.update(_flatten(value, f"{prefix}{index}."))
        return out
    messages = [str(item) for item in detail] if isinstance(detail, list) else [str(detail)]
    return {prefix.rstrip(".") or "non_field_errors": messages}


def _alias(view, field: str | None) -> str | None:
    """Services name their fields (`statements`, `message`); the API may call them otherwise."""
    return getattr(view, "field_aliases", {}).get(field, field) if field else None


def exception_handler(exc, context):
    request, view = context.get("request"), context.get("view")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or gettext("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    if isinstance(exc, DomainError):
        field = _alias(view, exc.field)
        help_url = request.build_absolute_uri(exc.help_url) if exc.help_url and request else exc.help_url
        response = Response(
            error_body(exc.code, exc.message, help_url=help_url, fields={field: [exc.message]} if field else None),
            status=exc.http_status,
        )
        if isinstance(exc, NotAuthenticated):
            response["WWW-Authenticate"] = REALM
        return response

    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django answer 500 and log it

    code, message = next(((c, m) for cls, (c, m) in CODES.items() if isinstance(exc, cls)), (exc.default_code, None))
    fields = None
    if isinstance(exc, exceptions.ValidationError):
        fields = {_alias(view, name) or name: value for name, value in _flatten(exc.detail).items()}
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
    else:
        message = message or str(exc.detail)
    response = Response(error_body(code, message, fields=fields), status=exc.status_code)
    if getattr(exc, "auth_header", None):
        response["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        response["Retry-After"] = str(int(exc.wait))
    return response


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `invalid_transition`.")
    message = serializers.CharField(help_text="What went wrong and what to do, in words a person can act on.")
    help_url = serializers.URLField(allow_null=True, help_text="The page where the caller can fix it, if any.")
    fields = serializers.DictField(  # type: ignore[assignment]  # the error shape's key shadows Serializer.fields
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field (empty when the error is not about one field).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
