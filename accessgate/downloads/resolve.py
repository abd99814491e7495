"""The one entry point of a file download (`…/files/<path>` and the Hugging Face `resolve`).

`resolve_file` tries the one-statement fast path (`fast.py`) for a token's `GET`; whatever it
does not answer (every refusal among them) takes the explaining path: the view's own lookup
(`locate`, which speaks the view's protocol for "no such file" and "sign in"), then the
download services (`download_url_issue`, or `download_probe` for a `HEAD`), which explain
every refusal with its message, reason code and `download.refused` note (a `HEAD`'s refusal
too, counted the same way; it issues no URL and spends no quota).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponseRedirect

from accessgate.accounts.auth import Caller, bearer_secret
from accessgate.audit.context import RequestMeta
from accessgate.catalog.models import WeightFile

from . import services
from .fast import download_url_fast
from .services import IssuedUrl


@dataclass(frozen=True)
class Located:
    """What the explaining path needs: who asks, and the file they address."""

    caller: Caller
    weight_file: WeightFile


@dataclass(frozen=True)
class Resolved:
    """The file, and its signed URL (None for a `HEAD` probe, which issues nothing)."""

    weight_file: WeightFile
    issued: IssuedUrl | None


def resolve_file(
    request, *, namespace: str, name: str, ref: str, path: str, locate: Callable[[], Located], main: bool = False
) -> Resolved:
    """Check everything and issue one file's URL (`GET`), or only check (`HEAD`: no URL, no
    quota, no event unless refused). `main`: the Hugging Face client's name for the newest active release."""
    secret = bearer_secret(request) if request.method == "GET" else None
    if secret:
        meta = RequestMeta.from_request(request)
        fast = download_url_fast(
            secret=secret, namespace=namespace, name=name, ref=ref, path=path, meta=meta, main=main
        )
        if fast is not None:
            issued, weight_file = fast
            return Resolved(weight_file=weight_file, issued=issued)
    located = locate()
    caller, weight_file = located.caller, located.weight_file
    if request.method == "HEAD":
        services.download_probe(
            user=caller.user,
            release=weight_file.release,
            token=caller.token,
            mfa_verified=caller.mfa,
            meta=RequestMeta.from_request(request),
            target=weight_file,
            path=weight_file.path,
            method="HEAD",
        )
        return Resolved(weight_file=weight_file, issued=None)
    issued = services.download_url_issue(
        user=caller.user,
        release=weight_file.release,
        weight_file=weight_file,
        meta=RequestMeta.from_request(request),
        token=caller.token,
        mfa_verified=caller.mfa,
    )
    return Resolved(weight_file=weight_file, issued=issued)


def redirect_to_issued(request, issued: IssuedUrl) -> HttpResponseRedirect:
    """The `302` both resolves answer, absolute so a client can tell whether it leaves the
    portal's host."""
    response = HttpResponseRedirect(request.build_absolute_uri(issued.url))
    if issued.remaining is not None:
        response["X-Downloads-Remaining"] = str(issued.remaining)
    return response
