from accessgate.access.models import Grant
from accessgate.catalog.models import Release, WeightFile
from accessgate.catalog.selectors import model_by_name, release_by_ref
from accessgate.errors import NotFound

from .models import DownloadCounter


def release_by_address(namespace: str, name: str, ref: str) -> Release:
    """The release at `/models/<namespace>/<name>/<version or revision>`, or NotFound."""
    model = model_by_name(namespace, name)
    release = release_by_ref(model, ref) if model is not None else None
    if release is None:
        raise NotFound(f"No release {ref} of {namespace}/{name}.")
    return release


def release_file(release: Release, path: str) -> WeightFile:
    weight_file = release.files.filter(path=path).first()
    if weight_file is None:
        raise NotFound(f"{release} has no file {path}.")
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
