from django.utils.translation import gettext as _

from accessgate.access.models import Grant
from accessgate.catalog.models import Release, WeightFile
from accessgate.catalog.names import REVISION_RE
from accessgate.catalog.selectors import model_by_name, release_by_ref, visible_models
from accessgate.core.errors import NotFound

from .models import DownloadCounter


def release_by_address(namespace: str, name: str, ref: str, *, user) -> Release:
    """The release at `/models/<namespace>/<name>/<version or revision>`, or NotFound
    (also for a model `user` may not see: `catalog.selectors.visible_models`)."""
    model = model_by_name(namespace, name, user=user)
    release = release_by_ref(model, ref) if model is not None else None
    if release is None:
        raise NotFound(
            _("No release %(ref)s of %(namespace)s/%(name)s.") % {"ref": ref, "namespace": namespace, "name": name}
        )
    return release


def file_by_address(namespace: str, name: str, ref: str, path: str, *, user) -> WeightFile:
    """The file at `/models/<namespace>/<name>/<ref>/files/<path>`, with its release and model, in one query.
    A model `user` may not see answers the same NotFound whether the file exists or not."""
    release_field = "release__revision" if REVISION_RE.match(ref) else "release__version"
    weight_file = (
        WeightFile.objects.select_related("release__model")
        .filter(
            release__model__namespace__iexact=namespace,
            release__model__name__iexact=name,
            release__model__in=visible_models(user),
            path=path,
            **{release_field: ref},
        )
        .first()
    )
    if weight_file is None:
        release_by_address(namespace, name, ref, user=user)  # says which part is missing
        raise NotFound(
            _("%(namespace)s/%(name)s %(ref)s has no file %(path)s.")
            % {"namespace": namespace, "name": name, "ref": ref, "path": path}
        )
    return weight_file


def downloads_left(grant: Grant, release: Release, limit: int | None) -> dict[int, int | None]:
    """URLs left per file of the release under this grant (None: unlimited)."""
    files = list(release.files.values_list("pk", flat=True))
    if limit is None:
        return dict.fromkeys(files)
    used = dict(
        DownloadCounter.objects.filter(grant=grant, weight_file__release=release).values_list("weight_file", "issued")
    )
    return {pk: max(0, limit - used.get(pk, 0)) for pk in files}


def file_metadata_headers(weight_file: WeightFile) -> dict[str, str]:
    """The headers that describe a file without serving it (a `HEAD`, the Hugging Face client's
    probe): the release revision it belongs to, its sha256 as the ETag, its size."""
    etag = f'"{weight_file.sha256}"'
    return {
        "X-Repo-Commit": weight_file.release.revision,
        "ETag": etag,
        "X-Linked-Etag": etag,
        "X-Linked-Size": str(weight_file.size),
    }
