"""Where a release import may read from: the one check every import passes
(`release_import_prepare` calls it; the console, the admin's import page, `import_release`,
the browser upload and `seed_demo` all go through that service).

- An `s3://` source is a prefix of the configured bucket, normalised first
  (`catalog.areas.normalise_key_prefix`: `//`, `./` and trailing slashes folded; `..`,
  percent-encoding, backslashes and control characters refused). It must lie under the
  model's own `<namespace>/<name>/`, or under an import prefix an admin opened to the actor
  who publishes the model (`catalog.ImportPrefix`). An operator's `import_release
  --any-prefix` lifts that one requirement, and nothing else.
- Never, for anyone: the whole bucket, the portal's own areas (`core.storage.prefixes`),
  another model's area, or a prefix holding another model's indexed files.
- A local directory is an operator's source (`operator=True`: the management commands); no
  web surface accepts one. It must not be or lie inside the storage root, the upload root or
  the portal's var directory (keys, database, audit files).
- A browser upload's own staging area (`staged=`) is the one portal area an import reads:
  exactly that upload's, named by the upload service itself.

Refusals are `ValidationFailed(field="source")` and change nothing.
"""

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.catalog.areas import foreign_area, model_prefix, split_s3_address
from accessgate.catalog.models import ImportPrefix, Model
from accessgate.core.errors import ValidationFailed

from .models import ReleaseUpload


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="source")


def _opened_prefixes(actor: User | None, model: Model) -> list[str]:
    """The import prefixes opened to `actor`, when the actor publishes `model`."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    if not model.publishers.filter(pk=actor.pk).exists():
        return []
    return list(ImportPrefix.objects.filter(publisher=actor).values_list("prefix", flat=True))


def s3_source_check(*, actor: User | None, model: Model, source: str, confined: bool = True) -> str:
    """The normalised `s3://bucket/prefix/` the import may index; raises naming `source`."""
    if settings.ACCESSGATE_STORAGE_BACKEND != "s3":
        raise _refuse(_("An s3:// source needs the S3 storage backend (ACCESSGATE_STORAGE_BACKEND=s3)."))
    prefix = split_s3_address(source, field="source")
    reached = foreign_area(prefix, model=model)
    if reached is not None:
        raise _refuse(
            _("%(source)s would reach %(area)s; a release is indexed only from its own model's files.")
            % {"source": source, "area": reached}
        )
    own = model_prefix(model)
    allowed = [own, *_opened_prefixes(actor, model)]
    if confined and not any(prefix.startswith(area) for area in allowed):
        raise _refuse(
            _(
                "%(source)s is outside the prefixes this import may read: s3://%(bucket)s/%(own)s "
                "(the model's own), or an import prefix an admin opened to you."
            )
            % {"source": source, "bucket": settings.ACCESSGATE_S3["bucket"], "own": own}
        )
    return f"s3://{settings.ACCESSGATE_S3['bucket']}/{prefix}"


def local_source_check(*, source: str) -> Path:
    """The resolved directory an operator's import may copy from; raises naming `source`."""
    path = Path(source).expanduser().resolve()
    portal_dirs = {
        _("the storage root"): settings.ACCESSGATE_LOCAL_STORAGE_ROOT,
        _("the upload root"): settings.ACCESSGATE_UPLOAD_ROOT,
        _("the portal's var directory"): settings.VAR_DIR,
    }
    for what, directory in portal_dirs.items():
        directory = Path(directory).resolve()
        if path.is_relative_to(directory) or directory.is_relative_to(path):
            raise _refuse(
                _("%(source)s would reach %(what)s (%(directory)s); copy the files elsewhere first.")
                % {"source": source, "what": what, "directory": directory}
            )
    return path


def import_source_check(
    *,
    actor: User | None,
    model: Model,
    source: str,
    operator: bool = False,
    unconfined: bool = False,
    staged: ReleaseUpload | None = None,
) -> str:
    """The normalised source, or `ValidationFailed(field="source")` saying why not.

    `operator`: the caller runs on the server (a management command): local directories
    are accepted. `unconfined` (operator only): an s3:// prefix outside the model's own and
    the actor's import prefixes. `staged`: the browser upload whose staged files these are."""
    source = source.strip()
    if staged is not None:
        own = (
            f"s3://{settings.ACCESSGATE_S3['bucket']}/{staged.prefix}"
            if staged.backend == "s3"
            else str(staged.staging_dir)
        )
        if source != own or staged.model_id != model.pk:
            raise _refuse(_("An upload imports only its own staged files."))
        return source
    if source.startswith("s3://"):
        return s3_source_check(actor=actor, model=model, source=source, confined=not (operator and unconfined))
    if not operator:
        raise _refuse(
            _("Give an s3:// address; a local directory is imported by an operator (manage.py import_release).")
        )
    return str(local_source_check(source=source))
