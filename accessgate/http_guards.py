"""Middleware that keeps bad input and outages from becoming 500s, and tags every request.

- `RequestIdMiddleware` gives each request an id (`X-Request-ID`, echoed in the response
  and put on every log record of the request).
- `BodyLimitMiddleware` refuses a request body over its route's limit from its
  Content-Length (413), before a byte of it is read or spooled to disk; a view names a
  larger limit with `core.http.body_limit`. A chunked body without a length is 411.
- `BadInputMiddleware` answers 400 to a control character in the path, the query string or
  a form field, before any view or database sees it.
- `OutageMiddleware` turns "the database / cache / broker cannot be reached" into a 503
  with `Retry-After` instead of a debug page. The transaction the view was in has been
  rolled back by then, so nothing was changed.
- `SecurityHeadersMiddleware` adds the Content-Security-Policy and pins pages that
  carry signed URLs to `Referrer-Policy: same-origin`, whatever the site-wide setting.
"""

import contextvars
import logging
import re
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.core.http import wants_json

logger = logging.getLogger("accessgate.outage")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("accessgate_request_id", default="-")

# C0 controls and DEL. Form fields may carry tab and line breaks (textareas); paths and
# query strings may not.
CONTROL_ANY = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
RETRY_AFTER_SECONDS = 30


def error_response(request, status: int, code: str, message: str) -> HttpResponse:
    """The portal's error answer: JSON for API/bearer clients, a small page for browsers."""
    if wants_json(request):
        # The API's one error shape (api/v1/errors.py): help_url and fields always present.
        return JsonResponse(
            {"error": {"code": code, "message": message, "help_url": None, "fields": {}}}, status=status
        )
    try:
        body: str = render_to_string("error.html", {"error": {"message": message}, "status": status})
    except Exception:  # noqa: BLE001 (the template layer itself may be what failed)
        body = message + "\n"
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every log record (`%(request_id)s`)."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID_OK.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Cleared on request_finished (below), not here: Django logs 4xx/5xx responses
        # (`django.request`) after the middleware chain has returned.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _clear_request_id(**kwargs):
    request_id_var.set("-")


request_finished.connect(_clear_request_id, dispatch_uid="accessgate.request_id")


class BodyLimitMiddleware:
    """413 for a Content-Length over the route's limit (ACCESSGATE_MAX_REQUEST_BYTES unless the
    view says otherwise), 400 for a Content-Length that is not a number, 411 for a chunked body
    with none: judged from the headers, so an oversized body is never received."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        return refusal or self.get_response(request)

    @staticmethod
    def limit_for(request) -> int:
        try:
            limit = getattr(resolve(request.path_info).func, "accessgate_body_limit", None)
        except Resolver404:
            limit = None
        return limit() if limit is not None else settings.ACCESSGATE_MAX_REQUEST_BYTES

    def _refusal(self, request) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared:
            if "chunked" in request.headers.get("Transfer-Encoding", "").lower():
                return error_response(request, 411, "length_required", _("Send the body with a Content-Length."))
            return None
        if not (declared.isascii() and declared.isdigit()) or len(declared) > 19:
            return error_response(request, 400, "bad_request", _("The Content-Length header is not a number."))
        limit = self.limit_for(request)
        if int(declared) > limit:
            return error_response(
                request,
                413,
                "payload_too_large",
                _("The request body is larger than this address accepts (%(limit)s bytes).") % {"limit": limit},
            )
        return None


class BadInputMiddleware:
    """400 for a NUL or other control character anywhere a user can type: the path, the
    query string, or a form field (names and values; uploaded file contents are not text)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self._problem(request)
        if problem:
            message = _("The request contains a control character in %(where)s.") % {"where": problem}
            return error_response(request, 400, "bad_request", message)
        return self.get_response(request)

    @staticmethod
    def _problem(request) -> str | None:
        if CONTROL_ANY.search(request.path) or CONTROL_ANY.search(request.path_info):
            return _("its path")
        try:
            query = request.GET
        except Exception:  # noqa: BLE001 (undecodable query strings)
            return _("its query string")
        for key, values in query.lists():
            if CONTROL_ANY.search(key) or any(CONTROL_ANY.search(value) for value in values):
                return _("its query string")
        content_type = request.content_type or ""
        if request.method == "POST" and content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form = request.POST
            except MultiPartParserError:
                return _("its form data (malformed)")
            for key, values in form.lists():
                if CONTROL_FORM.search(key) or any(CONTROL_FORM.search(value) for value in values):
                    return _("the form field '%(name)s'") % {"name": CONTROL_ANY.sub("?", key)[:40]}
        return None


# What a user reads for each service `_is_outage` names (the logs keep the plain name).
SERVICE_NAMES = {"database": gettext_lazy("database"), "cache": gettext_lazy("cache"), "broker": gettext_lazy("broker")}


def _is_outage(exception: BaseException) -> str | None:
    """Which service an exception says is unreachable, or None when it is something else."""
    if isinstance(exception, OperationalError | InterfaceError):
        return "database"
    if isinstance(exception, DatabaseError) and "connection" in str(exception).lower():
        return "database"
    try:
        import redis.exceptions

        if isinstance(exception, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return "cache"
    except ImportError:  # pragma: no cover
        pass
    try:
        import kombu.exceptions

        if isinstance(exception, kombu.exceptions.OperationalError):
            return "broker"
    except ImportError:  # pragma: no cover
        pass
    return None


class OutageMiddleware:
    """503 + Retry-After when a backing service is down, and on every 503 the portal sends.

    Views' exceptions arrive in `process_exception`; one raised by another middleware
    reaches `handler500` (`server_error` below), which gives the same answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_exception(self, request, exception):
        service = _is_outage(exception)
        if service is None:
            return None
        logger.error("%s unavailable while serving %s: %s", service, request.path, exception)
        response = error_response(
            request,
            503,
            "service_unavailable",
            _("The portal cannot reach its %(service)s right now, so nothing was changed. Try again in a minute.")
            % {"service": SERVICE_NAMES[service]},
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


# Pages whose HTML or redirect carries a signed download URL or token: never leak it in a Referer
# to another origin. `same-origin` sends no Referer across origins (and none on a redirect from
# here to the storage's origin) yet keeps the real Origin on the page's own form posts, which
# the CSRF check needs: under `no-referrer` browsers send `Origin: null` and every post fails.
SIGNED_URL_REFERRER_POLICY = "same-origin"
NO_REFERRER_PREFIXES = ("/dl/", "/accounts/tokens/")
NO_REFERRER_PATTERN = re.compile(
    r"^/models/[^/]+/[^/]+/[^/]+/(files/|manifest|download/)"  # the portal's download routes
    r"|^/[^/]+/[^/]+/resolve/"  # the Hugging Face protocol's redirect to a signed URL
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "ACCESSGATE_CSP", "")
        if policy and not response.has_header("Content-Security-Policy"):
            response["Content-Security-Policy"] = policy
        if request.path.startswith(NO_REFERRER_PREFIXES) or NO_REFERRER_PATTERN.match(request.path):
            response["Referrer-Policy"] = SIGNED_URL_REFERRER_POLICY
        return response


def server_error(request):
    """`handler500`: a 503 when the unhandled exception was an outage, else a plain 500 page."""
    import sys

    exception = sys.exc_info()[1]
    if exception is not None and _is_outage(exception):
        return OutageMiddleware(lambda r: None).process_exception(request, exception)
    return error_response(request, 500, "server_error", _("Something went wrong on our side; it has been logged."))
