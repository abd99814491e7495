from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestMeta:
    """Who-is-calling details that audit events keep: client IP and user agent."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestMeta":
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:512])


def client_ip(request) -> str | None:
    # Behind N trusted proxies the client is the Nth address from the right of
    # X-Forwarded-For; with none configured, only REMOTE_ADDR can be trusted.
    proxies = getattr(settings, "ACCESSGATE_TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
