"""Model info, file trees and `resolve`: what `snapshot_download` and `hf_hub_download` call.

Everything goes through the portal's selectors, rules (`download_check` via the download
services), its download entry point (`downloads.resolve`) and audit events; this module only
speaks the protocol.
"""

import hashlib
from urllib.parse import unquote, urlencode

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accessgate.access.selectors import policy_for
from accessgate.accounts.auth import Caller, mfa_verified, request_identity
from accessgate.audit.context import RequestMeta
from accessgate.catalog.selectors import active_releases, model_by_name, release_by_ref
from accessgate.downloads import services as downloads
from accessgate.downloads.resolve import Located, redirect_to_issued, resolve_file
from accessgate.downloads.selectors import file_metadata_headers

from .errors import HfError, entry_not_found, hf_view, repo_not_found, revision_not_found

TREE_PAGE_SIZE = 1000  # the Hub's own page size for non-expanded trees
LFS_POINTER_SIZE = 134  # size of a git-lfs pointer file; informational for the client
CHAT_TEMPLATES_DIR = "additional_chat_templates"  # transformers asks for it; absent means no extra templates


def caller(request):
    """(user, token): the bearer token's owner, or the session's user (anonymous allowed)."""
    return request_identity(request)


def visible_model(namespace: str, name: str, user):
    """The model, if this caller may know it exists (`catalog.selectors.visible_models`, as on
    the model page) and it has a policy. Otherwise RepoNotFound."""
    model = model_by_name(namespace, name, user=user)
    if model is None or policy_for(model) is None:
        raise repo_not_found(f"{namespace}/{name}")
    return model


def release_for(model, revision: str):
    """`main` (the newest active release), a version, or a 40-hex revision; else RevisionNotFound."""
    revision = unquote(revision)
    if revision == "main":
        release = active_releases(model).first()
        if release is None:
            raise revision_not_found(model.full_name, revision, f"{model.full_name} has no active release yet.")
        return release
    release = release_by_ref(model, revision)
    if release is None:
        raise revision_not_found(model.full_name, revision)
    if not release.is_active:
        raise revision_not_found(
            model.full_name, revision, f"Release {release.version} of {model.full_name} is withdrawn."
        )
    return release


def _absolute(request, route: str, *args) -> str:
    return request.build_absolute_uri(reverse(route, args=args))


def require_download(request, model, release, user, token):
    """The download check (scope, grant, licence, identity, two-factor) without downloading."""
    if not user.is_authenticated:
        raise HfError(
            401,
            "GatedRepo",
            f"{model.full_name} is gated. Apply for access at "
            f"{_absolute(request, 'apply:form', model.namespace, model.name)} , then create an access token "
            f"at {_absolute(request, 'accounts:tokens')} and set HF_TOKEN to it.",
        )
    return downloads.download_probe(
        user=user,
        release=release,
        token=token,
        mfa_verified=mfa_verified(request, token),
        meta=RequestMeta.from_request(request),
        method=request.method,
        surface="hf",
    )


def _hf_time(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _lfs(weight_file) -> dict:
    return {"oid": weight_file.sha256, "size": weight_file.size, "pointerSize": LFS_POINTER_SIZE}


@never_cache
@require_GET
@hf_view
def model_info(request, namespace, name, revision="main"):
    """`GET /api/models/<ns>/<name>[/revision/<rev>]`: the release as the Hub describes a commit."""
    user, token = caller(request)
    model = visible_model(namespace, name, user)
    release = release_for(model, revision)
    require_download(request, model, release, user, token)
    policy = policy_for(model)
    files = list(release.files.order_by("path"))
    return JsonResponse(
        {
            "_id": f"accessgate-model-{model.pk}",
            "id": model.full_name,
            "modelId": model.full_name,
            "author": model.namespace,
            "sha": release.revision,
            "lastModified": _hf_time(release.created_at),
            "createdAt": _hf_time(model.created_at),
            "private": False,
            "disabled": False,
            "gated": policy.gating,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "cardData": {"license": "other", "license_name": str(policy.license), "version": release.version},
            "siblings": [
                {
                    "rfilename": f.path,
                    "size": f.size,
                    "lfs": {"sha256": f.sha256, "size": f.size, "pointerSize": LFS_POINTER_SIZE},
                }
                for f in files
            ],
            "usedStorage": sum(f.size for f in files),
        }
    )


def _directory(path: str, revision: str) -> dict:
    # A stable id for the folder at this release (the Hub's is a git tree id).
    return {
        "type": "directory",
        "oid": hashlib.sha256(f"{revision}:{path}".encode()).hexdigest()[:40],
        "size": 0,
        "path": path,
    }


def tree_entries(files, prefix: str, recursive: bool, revision: str) -> tuple[list[dict], bool]:
    """Entries under `prefix` (files and folders), and whether `prefix` is a folder at all."""
    entries, folders, found = [], set(), not prefix
    base = prefix + "/" if prefix else ""
    for f in files:
        if not f.path.startswith(base):
            continue
        found = True
        parts = f.path[len(base) :].split("/")
        depth = len(parts) - 1 if recursive else min(1, len(parts) - 1)
        for i in range(1, depth + 1):
            folder = base + "/".join(parts[:i])
            if folder not in folders:
                folders.add(folder)
                entries.append(_directory(folder, revision))
        if recursive or len(parts) == 1:
            entries.append({"type": "file", "oid": f.sha256, "size": f.size, "path": f.path, "lfs": _lfs(f)})
    return entries, found


def paginated(request, items: list, page_size: int) -> JsonResponse:
    """One page of `items`, with `Link: <…>; rel="next"` when more follow (cursor = offset)."""
    try:
        start = max(0, int(request.GET.get("cursor", 0)))
    except ValueError:
        start = 0
    response = JsonResponse(items[start : start + page_size], safe=False)
    if start + page_size < len(items):
        query = request.GET.copy()
        query["cursor"] = str(start + page_size)
        response["Link"] = f'<{request.build_absolute_uri(request.path)}?{urlencode(query, doseq=True)}>; rel="next"'
    return response


@never_cache
@require_GET
@hf_view
def tree(request, namespace, name, revision, path=""):
    """`GET /api/models/<ns>/<name>/tree/<rev>[/<path>]?recursive=true`, paginated by Link."""
    user, token = caller(request)
    model = visible_model(namespace, name, user)
    release = release_for(model, revision)
    require_download(request, model, release, user, token)
    prefix = path.strip("/")
    files = list(release.files.order_by("path"))
    entries, found = tree_entries(
        files, prefix, request.GET.get("recursive", "").lower() in {"1", "true"}, release.revision
    )
    if not found:
        if prefix == CHAT_TEMPLATES_DIR:
            return JsonResponse([], safe=False)
        raise entry_not_found(model.full_name, prefix, release.revision)
    return paginated(request, entries, TREE_PAGE_SIZE)


@never_cache
@require_http_methods(["GET", "HEAD"])
@hf_view
def resolve(request, namespace, name, revision, path):
    """`HEAD`: the file's commit, sha256 and size after the full check; issues, counts and records
    nothing. `GET`: the portal's resolve (same entry point, policy, quota and audit event), a
    `302` to the signed URL. Every refusal is explained in the protocol's words."""

    def locate() -> Located:
        user, token = caller(request)
        model = visible_model(namespace, name, user)
        release = release_for(model, revision)
        # A NUL byte is in no stored path (and PostgreSQL would fail the query on it).
        weight_file = (
            None if "\x00" in path else release.files.filter(path=path).select_related("release__model").first()
        )
        if weight_file is None or not user.is_authenticated:
            require_download(request, model, release, user, token)
            raise entry_not_found(model.full_name, path, release.revision)
        return Located(Caller(user=user, token=token, mfa=mfa_verified(request, token)), weight_file)

    ref = unquote(revision)
    resolved = resolve_file(
        request, namespace=namespace, name=name, ref=ref, path=path, locate=locate, main=ref == "main"
    )
    if resolved.issued is None:
        response = HttpResponse(status=200)
    else:
        response = redirect_to_issued(request, resolved.issued)
    for header, value in file_metadata_headers(resolved.weight_file).items():
        response[header] = value
    return response
