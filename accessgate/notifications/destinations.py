"""Where a webhook may go: public addresses only, checked at registration and again, after
resolving the name, right before each delivery (docs/webhooks-security.md).

`check_url` is the registration check (a `ValidationFailed` on the `url` field);
`resolve` is the delivery check, and returns the addresses the sender must connect to —
the ones that were checked, so a name that resolves differently a moment later (DNS
rebinding) cannot move the connection elsewhere.

An address passes when `ipaddress` calls it global and none of `is_multicast`,
`is_reserved`, `is_site_local` holds, and, for IPv6 forms that carry an IPv4 address
(IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4, Teredo), when the carried address
passes too. `is_global` alone is not enough on Python 3.11: it is true for multicast
(224.0.1.1, ff0e::1), for the NAT64 and IPv4-compatible forms of 127.0.0.1, for 6to4 of
any address and for the deprecated site-local fec0::/10. Networks listed in
`ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS` pass whatever they are: that is the explicit way to
reach an internal receiver.
"""

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from accessgate.core.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
CGNAT = ipaddress.IPv4Network("100.64.0.0/10")  # for the message only: is_global already excludes it
DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(Exception):
    """The URL or what its name resolves to is not a permitted destination."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str  # the name (or literal) from the URL: the Host header and the TLS server name
    port: int
    target: str  # path and query, as sent on the request line
    addresses: tuple[IPAddress, ...]  # checked; the connection goes to one of these


def schemes() -> list[str]:
    return ["https", "http"] if settings.ACCESSGATE_WEBHOOK_ALLOW_HTTP else ["https"]


@lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def allowed_networks():
    return _networks(tuple(settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS))


def _carried_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or (int(address) >> 32 == 0 and int(address) > 1):  # NAT64, IPv4-compatible (::a.b.c.d)
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _kind(address: IPAddress) -> str:
    """A word for why an address is refused (for the message)."""
    for attribute, word in [
        ("is_unspecified", _("unspecified")),
        ("is_loopback", _("loopback")),
        ("is_link_local", _("link-local")),
        ("is_multicast", _("multicast")),
        ("is_private", _("private")),
        ("is_reserved", _("reserved")),
    ]:
        if getattr(address, attribute, False):
            return word
    if address in CGNAT:
        return _("shared address space (CGNAT)")
    return _("not public")


def refusal(address: IPAddress) -> str | None:
    """Why `address` is not a permitted destination ("loopback", "embeds 127.0.0.1:
    loopback"…), or None when it is."""
    if any(address in network for network in allowed_networks() if network.version == address.version):
        return None
    if isinstance(address, ipaddress.IPv6Address):
        carried = _carried_ipv4(address)
        if carried is not None:
            inner = refusal(carried)
            if inner is not None:
                return _("embeds %(address)s: %(inner)s") % {"address": carried, "inner": inner}
    public = (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not getattr(address, "is_site_local", False)
    )
    return None if public else _kind(address)


def _parse(url: str):
    url = url.strip()
    # Before the URL check, so the message says what is wrong; never echoes the credentials.
    if "@" in urlsplit(url).netloc:
        raise DestinationRefused(
            _(
                "A webhook URL cannot carry a user name or password (user:password@); receivers "
                "check the Webhook-Signature header instead."
            )
        )
    try:
        URLValidator(schemes=schemes())(url)
    except DjangoValidationError as error:
        raise DestinationRefused(
            _("Enter a full %(schemes)s URL for the endpoint.") % {"schemes": " or ".join(schemes())}
        ) from error
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as error:
        raise DestinationRefused(_("The URL's port is not a number between 0 and 65535.")) from error
    return url, parts, port


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve_host(host: str, port: int) -> tuple[IPAddress, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise DestinationRefused(
            _("%(host)s does not resolve (%(reason)s); register a name the portal can look up.")
            % {"host": host, "reason": getattr(error, "strerror", None) or error}
        ) from error
    addresses = []
    for family, *_rest, sockaddr in answers:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    if not addresses:
        raise DestinationRefused(_("%(host)s has no IPv4 or IPv6 address.") % {"host": host})
    return tuple(addresses)


def resolve(url: str) -> Destination:
    """Check `url` and every address its host resolves to; all must pass (one refused
    address refuses the URL, so a name cannot mix a public and an internal answer)."""
    url, parts, port = _parse(url)
    host = parts.hostname or ""
    addresses = _resolve_host(host, port)
    literal = len(addresses) == 1 and _is_literal(host)
    for address in addresses:
        reason = refusal(address)
        if reason is None:
            continue
        shown = {"host": host, "address": address, "reason": reason}
        raise DestinationRefused(
            (
                _("%(address)s (%(reason)s) is not a public address") % shown
                if literal
                else _("%(host)s resolves to %(address)s (%(reason)s), not a public address") % shown
            )
            + _(
                ": webhooks go to public addresses only (an internal receiver's network can be listed "
                "in ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS)."
            )
        )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(scheme=parts.scheme, host=host, port=port, target=target, addresses=addresses)


def check_url(url: str) -> str:
    """The registration check: the stripped URL, or `ValidationFailed` on `url`."""
    try:
        resolve(url)
    except DestinationRefused as refused:
        raise ValidationFailed(refused.message, field="url") from refused
    return url.strip()
