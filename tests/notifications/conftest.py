import ipaddress
import socket
from unittest import mock

import pytest
from django.db import transaction

from accessgate.notifications.services import webhook_endpoint_create
from accessgate.notifications.webhooks import WEBHOOK_EVENTS

from .webhook_receiver import start_receiver, stop_receiver

ALL_EVENTS = None  # webhook_endpoint() default: every webhook event
PUBLIC_ADDRESS = "93.184.215.14"  # a global unicast address; nothing here ever connects to it


class FakeDNS:
    """The resolver at the `socket.getaddrinfo` boundary: names in `answers` (and any
    `*.example.org`, which answers PUBLIC_ADDRESS) resolve as told, the rest as usual.
    `lookups` lists the names asked, in order."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
        if name in self.answers or name.endswith(".example.org"):
            self.lookups.append(name)
            results = []
            for address in self.answers.get(name, [PUBLIC_ADDRESS]):
                if ipaddress.ip_address(address).version == 6:
                    results.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0)))
                else:
                    results.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))))
            return results
        return self._real(host, port, family, type, proto, flags)


@pytest.fixture(autouse=True)
def dns():
    fake = FakeDNS()
    with mock.patch("socket.getaddrinfo", fake):
        yield fake


@pytest.fixture
def receiver(settings):
    # The test receiver listens on the loopback, which webhooks may reach only when listed.
    settings.ACCESSGATE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = start_receiver()
    yield server.receiver
    stop_receiver(server)


@pytest.fixture
def webhook_endpoint(db, receiver, admin_user):
    """A factory: register an endpoint at the test receiver through the audited service."""

    def make(*, events=ALL_EVENTS, model=None, url=None):
        with transaction.atomic():
            return webhook_endpoint_create(
                actor=admin_user,
                url=url or receiver.url,
                events=events if events is not None else [a.value for a in WEBHOOK_EVENTS],
                model=model,
            )

    return make
