import re
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accessgate.access.policy import download_check
from accessgate.accounts.auth import mfa_verified, request_identity
from accessgate.audit.context import RequestMeta
from accessgate.errors import NotAuthenticated
from accessgate.middleware import wants_json

from . import selectors, services
from .storage import CHUNK, LocalStorage, content_disposition, get_storage

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _caller(request):
    """The authenticated user (and token), or a response sending them to log in."""
    user, token = request_identity(request)
    if user.is_authenticated:
        return user, token, None
    if wants_json(request):
        raise NotAuthenticated("Log in or send 'Authorization: Bearer <token>' to download.")
    return None, None, redirect_to_login(request.get_full_path())


@never_cache
@require_http_methods(["GET", "HEAD"])
def resolve(request, namespace, name, ref, path):
    """`302` to a fresh signed URL for one file, after re-checking everything."""
    user, token, login = _caller(request)
    if login:
        return login
    weight_file = selectors.file_by_address(namespace, name, ref, path)
    issued = services.download_url_issue(
        user=user,
        release=weight_file.release,
        weight_file=weight_file,
        meta=RequestMeta.from_request(request),
        token=token,
        mfa_verified=mfa_verified(request, token),
    )
    response = HttpResponseRedirect(request.build_absolute_uri(issued.url))
    if issued.remaining is not None:
        response["X-Downloads-Remaining"] = str(issued.remaining)
    return response


def _manifest(request, namespace, name, ref, fmt):
    user, token, login = _caller(request)
    if login:
        return None, None, login
    release = selectors.release_by_address(namespace, name, ref)
    issued = services.download_manifest_issue(
        user=user,
        release=release,
        meta=RequestMeta.from_request(request),
        token=token,
        format=fmt,
        mfa_verified=mfa_verified(request, token),
    )
    return release, [(item, request.build_absolute_uri(item.url)) for item in issued], None


@never_cache
@require_http_methods(["GET"])
def manifest_json(request, namespace, name, ref):
    release, items, login = _manifest(request, namespace, name, ref, "json")
    if login:
        return login
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
def manifest_txt(request, namespace, name, ref):
    """For `aria2c -i`: each URL followed by an indented `out=` line naming the file.

    `?format=urls` gives the URLs alone, for `wget --content-disposition -i` (wget would
    try to fetch the `out=` lines as URLs and exit with an error).
    """
    urls_only = request.GET.get("format") == "urls"
    release, items, login = _manifest(request, namespace, name, ref, "urls" if urls_only else "aria2")
    if login:
        return login
    lines = []
    for item, url in items:
        lines += [url] if urls_only else [url, f"  out={item.path}"]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@never_cache
@require_http_methods(["GET"])
def sha256sums(request, namespace, name, ref):
    """`sha256sum -c SHA256SUMS` format. Lists hashes only, so it issues no URL."""
    user, token, login = _caller(request)
    if login:
        return login
    release = selectors.release_by_address(namespace, name, ref)
    download_check(user, release, mfa_verified=mfa_verified(request, token))
    body = "".join(f"{f.sha256}  {f.path}\n" for f in release.files.order_by("path"))
    return HttpResponse(body, content_type="text/plain; charset=utf-8")


def release_page(request, namespace, name, ref):
    """The grant holder's download page: files, buttons, quotas and copy-ready commands."""
    user, token, login = _caller(request)
    if login:
        return login
    release = selectors.release_by_address(namespace, name, ref)
    grant = download_check(user, release, mfa_verified=mfa_verified(request, token))
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
            # …/manifest minus its last segment: the base the commands build on.
            "release_base_url": request.build_absolute_uri(reverse("downloads:manifest", args=address)).rsplit("/", 1)[
                0
            ],
        },
    )


def _address(release):
    return [release.model.namespace, release.model.name, release.version]


# --- the local storage backend's file server -------------------------------------------


def _forbidden(message):
    return HttpResponse(message + "\n", status=403, content_type="text/plain; charset=utf-8")


def _byte_range(header: str, size: int):
    """(start, end) for a single satisfiable range, None to send everything, or 'invalid' for 416."""
    match = RANGE_RE.match(header.strip())
    if not match:
        return None  # absent, multi-range or unknown unit: answer the whole file (RFC 9110 allows it)
    first, last = match.groups()
    if not first and not last:
        return None
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
        return _forbidden("This download link has expired. Ask the portal for a new one.")
    except signing.BadSignature:
        return _forbidden("This download link is not valid.")
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not storage.exists(payload["k"]):
        return _forbidden("This download link is not valid.")
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
