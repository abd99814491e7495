"""One webhook POST: to a checked address, within one deadline, without following redirects.

`post` resolves the endpoint's name and checks every address (`destinations.resolve`),
then connects to a checked address itself (never through a second lookup), sending the
name as the `Host` header and as the TLS server name, so the certificate is verified for
the name. `ACCESSGATE_WEBHOOK_TIMEOUT` seconds bound the whole exchange — name lookup,
connect, TLS, sending and reading the status line, headers and the start of the body: a
timer shuts the socket down when they are up, however the receiver trickles its bytes.
A 3xx is an answer like any other non-2xx (http.client follows nothing).

What is kept of an answer is `excerpt()`: printable, one line, bounded, with the request's
secrets (signature, URL path tokens, query) redacted.
"""

import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings

from . import destinations, webhook_crypto

READ_BYTES = 1024  # read at most this much of a body; redaction runs on it before cutting
EXCERPT_CHARS = 200
ERROR_CHARS = 500
# Lookups run here so a hanging resolver counts against the deadline; a lookup that
# overruns finishes in the background and its answer is dropped.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


class _Pinned:
    """Connects to `address` instead of looking `host` up again; `cutter` is a duplicate of
    the TCP socket that the deadline timer shuts down (it ends reads on every duplicate,
    TLS included)."""

    address: str
    family: int
    cutter: socket.socket | None = None
    # Set by http.client's connection classes, which these mix into.
    timeout: float | None
    port: int

    def _tcp(self) -> socket.socket:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        self.cutter = sock.dup()
        try:
            sock.connect((self.address, self.port))
        except BaseException:
            sock.close()
            raise
        return sock


class PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    def connect(self):
        self.sock = self._tcp()


class PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    def connect(self):
        self.sock = self._context.wrap_socket(self._tcp(), server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    """The system's trust store, certificate and host name verified (for the URL's name)."""
    return ssl.create_default_context()


def _redactions(url: str, secret: str, signature: str) -> list[str]:
    parts = url.split("?", 1)
    found = [secret, signature, signature.rsplit("v1=", 1)[-1]]
    if len(parts) == 2:
        found += [parts[1], *re.split(r"[&=]", parts[1])]
    found += [segment for segment in re.split(r"[/?#]", parts[0]) if len(segment) >= 16]
    return sorted({value for value in found if len(value) >= 6}, key=len, reverse=True)


def excerpt(raw: bytes | str, redact: Sequence[str] = (), limit: int = EXCERPT_CHARS) -> str:
    """A short, printable, one-line excerpt: control, format (bidi) and other non-printable
    characters become spaces, runs of spaces one, secrets `[redacted]`, then cut to `limit`."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    for value in redact:
        text = text.replace(value, "[redacted]")
    text = re.sub(r"whsec_[A-Za-z0-9_-]+", "[redacted]", text)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def post(*, url: str, secret: str, body: bytes, webhook_id: str) -> tuple[int | None, str]:
    """POST `body` once. Returns (status code or None, error text, "" on a 2xx)."""
    timeout = settings.ACCESSGATE_WEBHOOK_TIMEOUT
    deadline = time.monotonic() + timeout
    timestamp = int(time.time())
    signature = webhook_crypto.signature_header(secret, timestamp, body)
    redact = _redactions(url, secret, signature)
    try:
        destination = _resolver.submit(destinations.resolve, url).result(timeout=timeout)
    except FutureTimeout:
        return None, f"Name lookup took longer than {timeout} s."
    except destinations.DestinationRefused as refused:
        return None, excerpt(f"Refused before connecting: {refused.message}", redact, ERROR_CHARS)
    address = destination.addresses[0]
    remaining = max(deadline - time.monotonic(), 0.01)
    connection: PinnedHTTPConnection | PinnedHTTPSConnection
    if destination.scheme == "https":
        connection = PinnedHTTPSConnection(destination.host, destination.port, timeout=remaining, context=tls_context())
    else:
        connection = PinnedHTTPConnection(destination.host, destination.port, timeout=remaining)
    connection.address, connection.family = str(address), socket.AF_INET6 if address.version == 6 else socket.AF_INET
    cut = threading.Event()

    def cut_off():
        cut.set()
        if connection.cutter is not None:
            try:
                connection.cutter.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    timer = threading.Timer(remaining, cut_off)
    timer.daemon = True
    timer.start()
    try:
        connection.request(
            "POST",
            destination.target,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "accessgate-webhooks/1",
                webhook_crypto.ID_HEADER: webhook_id,
                webhook_crypto.SIGNATURE_HEADER: signature,
            },
        )
        response = connection.getresponse()
        status = response.status
        answer = response.read(READ_BYTES) if not 200 <= status < 300 else b""
    except (OSError, http.client.HTTPException, ValueError) as error:
        if cut.is_set():
            return None, f"No complete answer within {timeout} s (ACCESSGATE_WEBHOOK_TIMEOUT); cut off."
        return None, excerpt(f"{type(error).__name__}: {error}", redact, ERROR_CHARS)
    finally:
        timer.cancel()
        connection.close()
        if connection.cutter is not None:
            connection.cutter.close()
    if 200 <= status < 300:
        return status, ""
    return status, excerpt(f"HTTP {status}: ".encode() + answer, redact)
