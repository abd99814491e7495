"""Small facts about an HTTP request that several layers need."""

from django.http import HttpRequest


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    # Browsers never send Authorization to us; scripts do (Bearer, or a wrong scheme we refuse).
    return "application/json" in accept or "Authorization" in request.headers
