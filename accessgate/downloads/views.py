import re
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accessgate.accounts.auth import LOGIN_OR_TOKEN, caller_of, caller_required
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.refusals import refusal_note
from accessgate.core.errors import NotAuthenticated
from accessgate.core.http import wants_json
from accessgate.core.storage import CHUNK, LocalStorage, content_disposition, get_storage

from . import selectors, services
from .resolve import Located, redirect_to_issued, resolve_file

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
MAX_DIGITS = 18


class _SignInFirst(Exception):
    """An anonymous browser: the view answers with the login page."""


@never_cache
@require_http_methods(["GET", "HEAD"])
def resolve(request, namespace, name, ref, path):
    """`302` to a fresh signed URL for one file, after re-checking everything (`HEAD`: the
    file's metadata after the same checks); see `resolve.resolve_file`."""

    def locate() -> Located:
        caller = caller_of(request)
        if caller is None:
            if wants_json(request):
                raise NotAuthenticated(str(LOGIN_OR_TOKEN))
            raise _SignInFirst
        return Located(caller, selectors.file_by_address(namespace, name, ref, path, user=caller.user))

    try:
        resolved = resolve_file(request, namespace=namespace, name=name, ref=ref, path=path, locate=locate)
    except _SignInFirst:
        return redirect_to_login(request.get_full_path())
    if resolved.issued is None:
        return file_metadata_response(resolved.weight_file)
    return redirect_to_issued(request, resolved.issued)


def file_metadata_response(weight_file) -> HttpResponse:
    """What a `HEAD` learns: the file's commit, sha256 (as the ETag) and size."""
    response = HttpResponse(status=200)
    for header, value in selectors.file_metadata_headers(weight_file).items():
        response[header] = value
    return response


def _manifest(request, namespace, name, ref, fmt):
    caller = request.caller
    release = selectors.release_by_address(namespace, name, ref, user=request.caller.user)
    issued = services.download_manifest_issue(
        user=caller.user,
        release=release,
        meta=RequestMeta.from_request(request),
        token=caller.token,
        format=fmt,
        mfa_verified=caller.mfa,
    )
    # Storage URLs (S3) are absolute already; only the local backend's need the site's origin.
    absolute = request.build_absolute_uri
    return release, [(item, item.url if "://" in item.url else absolute(item.url)) for item in issued]


@never_cache
@require_http_methods(["GET"])
@caller_required
def manifest_json(request, namespace, name, ref):
    release, items = _manifest(request, namespace, name, ref, "json")
    return JsonResponse(
        {
            "model": release.model.full_name,
            "version": release.version,
            "revision": release.revision,
            "files": [
                {
                    "path": item.path,
                    "size": item.size,
                    "sha256": item.sha256,
                    "url": url,
                    "expires_at": item.expires_at.isoformat(),
                    "downloads_remaining": item.remaining,
                }
                for item, url in items
            ],
        }
    )


@never_cache
@require_http_methods(["GET"])
@caller_required
def manifest_txt(request, namespace, name, ref):
    """For `aria2c -i`: each URL followed by an indented `out=` line naming the file.

    `?format=urls` gives the URLs alone, for `wget --content-disposition -i` (wget would
    try to fetch the `out=` lines as URLs and exit with an error).
    """
    urls_only = request.GET.get("format") == "urls"
    release, items = _manifest(request, namespace, name, ref, "urls" if urls_only else "aria2")
    lines = []
    for item, url in items:
        lines += [url] if urls_only else [url, f"  out={item.path}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def _probe(request, release, **details):
    """The download check of a page that issues no URL; a refusal is counted like a download's."""
    caller = request.caller
    return services.download_probe(
        user=caller.user,
        release=release,
        token=caller.token,
        mfa_verified=caller.mfa,
        meta=RequestMeta.from_request(request),
        **details,
    )


@never_cache
@require_http_methods(["GET"])
@caller_required
def sha256sums(request, namespace, name, ref):
    """`sha256sum -c SHA256SUMS` format. Lists hashes only, so it issues no URL."""
    release = selectors.release_by_address(namespace, name, ref, user=request.caller.user)
    files = list(release.files.order_by("path"))
    _probe(request, release, page="sha256sums", listing=files)
    body = "".join(f"{f.sha256}  {f.path}\n" for f in files)
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


@caller_required
def release_page(request, namespace, name, ref):
    """The grant holder's download page: files, buttons, quotas and copy-ready commands."""
    release = selectors.release_by_address(namespace, name, ref, user=request.caller.user)
    grant = _probe(request, release, page="release")
    policy = grant.model.policy
    left = selectors.downloads_left(grant, release, policy.max_downloads_per_file)
    address = _address(release)
    files = [
        {"file": f, "left": left[f.pk], "url": reverse("downloads:resolve", args=[*address, f.path])}
        for f in release.files.order_by("path")
    ]
    return render(
        request,
        "downloads/release.html",
        {
            "release": release,
            "grant": grant,
            "policy": policy,
            "files": files,
            "example_file_url": request.build_absolute_uri(files[0]["url"]) if files else "",
            "example_file_name": files[0]["file"].path.rsplit("/", 1)[-1] if files else "",
            "example_file_path": files[0]["file"].path if files else "",
            # The Hugging Face client's HF_ENDPOINT: this site's root, as the researcher reaches it.
            "hf_endpoint": request.build_absolute_uri("/").rstrip("/"),
            # …/manifest minus its last segment: the base the commands build on.
            "release_base_url": request.build_absolute_uri(reverse("downloads:manifest", args=address)).rsplit("/", 1)[
                0
            ],
        },
    )


def _address(release):
    return [release.model.namespace, release.model.name, release.version]


# --- the local storage backend's file server -------------------------------------------


def _forbidden(request, message, reason: str, filename: str):
    """Refuse a link, counted in the trail like any refused download (by client IP: a link
    names no user)."""
    refusal_note(
        action=AuditAction.DOWNLOAD_REFUSED,
        reason=reason,
        meta=RequestMeta.from_request(request),
        filename=filename[:200],
        via="link",
    )
    return HttpResponse(message + "\n", status=403, content_type="text/plain; charset=utf-8")


def _byte_range(header: str, size: int):
    """(start, end) for a single satisfiable range, None to send everything, or 'invalid' for 416."""
    match = RANGE_RE.match(header.strip())
    if not match:
        return None  # absent, multi-range or unknown unit: answer the whole file (RFC 9110 allows it)
    first, last = match.groups()
    if not first and not last:
        return None
    # Past 18 digits a position exceeds any file (and int() of 4,300+ digits raises).
    if len(first) > MAX_DIGITS:
        return "invalid"
    if len(last) > MAX_DIGITS:
        last = str(size)
    if not first:
        length = int(last)
        return (max(0, size - length), size - 1) if length else "invalid"
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "invalid"
    return start, end


def _stream(path, start, length):
    with open(path, "rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk


def _offloaded(payload: dict, path, filename: str) -> HttpResponse:
    """The token checked out: let the web server send the file (and handle Range)."""
    response = HttpResponse(content_type="application/octet-stream")
    if settings.ACCESSGATE_LOCAL_OFFLOAD == "x-sendfile":
        response["X-Sendfile"] = str(path)
    else:
        response["X-Accel-Redirect"] = settings.ACCESSGATE_LOCAL_OFFLOAD_PREFIX + quote(payload["k"])
    response["Content-Disposition"] = content_disposition(filename)
    response["ETag"] = f'"{payload["h"]}"'
    return response


@never_cache
@require_http_methods(["GET", "HEAD"])
def local_file(request, token, filename):
    """Serve a file of the local backend to whoever holds an unexpired, untampered token."""
    try:
        payload = LocalStorage.read_token(token, now=timezone.now())
    except signing.SignatureExpired:
        return _forbidden(
            request, _("This download link has expired. Ask the portal for a new one."), "link_expired", filename
        )
    except signing.BadSignature:
        return _forbidden(request, _("This download link is not valid."), "link_invalid", filename)
    if payload.get("n", filename) != filename:
        # A link serves its file under the file's own name only, never as "invoice.pdf.exe".
        return HttpResponse(
            _("No such file at this link.") + "\n", status=404, content_type="text/plain; charset=utf-8"
        )
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not storage.exists(payload["k"]):
        return _forbidden(request, _("This download link is not valid."), "link_invalid", filename)
    path = storage.path(payload["k"])
    if settings.ACCESSGATE_LOCAL_OFFLOAD != "python":
        return _offloaded(payload, path, filename)
    size = path.stat().st_size
    byte_range = _byte_range(request.headers.get("Range", ""), size)
    if byte_range == "invalid":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = byte_range or (0, size - 1)
    length = end - start + 1 if size else 0
    if request.method == "HEAD":
        response = HttpResponse(status=206 if byte_range else 200)
    else:
        response = StreamingHttpResponse(_stream(path, start, length), status=206 if byte_range else 200)
    response["Content-Type"] = "application/octet-stream"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = f'"{payload["h"]}"'
    response["Content-Disposition"] = content_disposition(filename)
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
