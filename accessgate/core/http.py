"""Small facts about an HTTP request that several layers need."""


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    # Browsers never send Authorization to us; scripts do (Bearer, or a wrong scheme we refuse).
    return "application/json" in accept or "Authorization" in request.headers


def body_limit(limit):
    """Give a view its own request-body limit in bytes (`limit` is called per request, so it may
    read a setting); `http_guards.BodyLimitMiddleware` applies it before the body is read. Put it
    outermost, above the view's other decorators."""

    def decorate(view):
        view.accessgate_body_limit = limit
        return view

    return decorate
