"""Small facts about an HTTP request that several layers need."""


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    # Browsers never send Authorization to us; scripts do (Bearer, or a wrong scheme we refuse).
    return "application/json" in accept or "Authorization" in request.headers
