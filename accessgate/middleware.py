from django.http import JsonResponse
from django.shortcuts import render

from accessgate.core.errors import DomainError, NotAuthenticated
from accessgate.core.http import wants_json


class DomainErrorMiddleware:
    """Turns a DomainError raised by a service into a page (or JSON) with its message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if wants_json(request):
            error = {"code": exception.code, "message": exception.message}
            if exception.help_url:
                error["help_url"] = request.build_absolute_uri(exception.help_url)
            response = JsonResponse({"error": error}, status=exception.http_status)
        else:
            response = render(request, "error.html", {"error": exception}, status=exception.http_status)
        if isinstance(exception, NotAuthenticated):
            response["WWW-Authenticate"] = 'Bearer realm="accessgate"'
        return response
