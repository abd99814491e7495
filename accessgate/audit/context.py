from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class RequestMeta:
    """Who-is-calling details that audit events keep: client IP and user agent."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> "RequestMeta":
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:512])


def client_ip(request: HttpRequest) -> str | None:
    # Behind N trusted proxies the client is the Nth address from the right of
    # X-Forwarded-For; with none configured, only REMOTE_ADDR can be trusted.
    proxies: int = getattr(settings, "ACCESSGATE_TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded: list[str] = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    remote: str | None = request.META.get("REMOTE_ADDR") or None
    return remote
