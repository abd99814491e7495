"""Putting weights in: a release import hashes (streaming) and stores every file, then
creates the release in one audited transaction.

Imports are resumable. A re-run after an interruption (a new job for the same version:
nothing was created) skips each file whose stored copy the store vouches for with the same
size and sha256 (`Storage.stored_sha256`: a sidecar record on the local backend, the
object's `sha256` metadata on S3; never size alone), and an S3 multipart upload continues
with the parts it lacks (`core/storage/multipart.py`). Progress is recorded on the job as
it goes (`progress.ImportProgress`).
"""

from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.services import record
from accessgate.catalog.areas import foreign_area, model_prefix
from accessgate.catalog.models import Model, Release
from accessgate.catalog.names import require_file_path, validate_version
from accessgate.catalog.services import FileSpec, release_create
from accessgate.core.errors import ValidationFailed
from accessgate.core.jobs import job_done, job_fail, job_start
from accessgate.core.storage import Storage, get_storage, sha256_of

from .models import ReleaseImport, ReleaseUpload
from .progress import ImportProgress
from .sources import import_source_check


def release_storage_prefix(model: Model, version: str) -> str:
    return f"{model_prefix(model)}{version}/"


def _local_source_files(source: Path) -> list[tuple[str, Path]]:
    if not source.is_dir():
        raise ValidationFailed(_("%(source)s is not a directory.") % {"source": source}, field="source")
    files = [
        (path.relative_to(source).as_posix(), path)
        for path in sorted(source.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(source).parts)
    ]
    if not files:
        raise ValidationFailed(_("%(source)s holds no files to import.") % {"source": source}, field="source")
    for relative, _path in files:
        require_file_path(relative, field="source")
    return files


def release_import_prepare(
    *,
    actor: User | None,
    model: Model,
    version: str,
    source: str,
    notes: str = "",
    operator: bool = False,
    unconfined: bool = False,
    staged: ReleaseUpload | None = None,
) -> ReleaseImport:
    """Validate the request and record the job; `release_import_run` does the work.

    The source passes `sources.import_source_check` (`operator`, `unconfined` and `staged`
    are its options) and is recorded normalised; a refusal names its field (version or
    source) and changes nothing. A local source's file paths are checked here too
    (`catalog.names.file_path_problem`); an s3:// source's when the job lists them."""
    try:
        validate_version(version)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), field="version") from error
    if Release.objects.filter(model=model, version=version).exists():
        raise ValidationFailed(
            _("%(full_name)s already has a release %(version)s.") % {"full_name": model.full_name, "version": version},
            field="version",
        )
    source = import_source_check(
        actor=actor, model=model, source=source, operator=operator, unconfined=unconfined, staged=staged
    )
    if not source.startswith("s3://"):
        _local_source_files(Path(source))
    with transaction.atomic():
        job = ReleaseImport.objects.create(
            model=model,
            version=version,
            source=source,
            notes=notes,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(
            actor=actor,
            action=AuditAction.DOWNLOAD_RELEASE_IMPORT_REQUESTED,
            target=job,
            model=model.full_name,
            version=version,
            source=source,
        )
    return job


def release_import_run(
    job: ReleaseImport,
    *,
    actor: User | None = None,
    on_progress: Callable[[ReleaseImport], None] | None = None,
) -> Release:
    """Hash (streaming) and store every file, then create the release in one audited
    transaction. The actor is whoever asked for the import (`job.requested_by`) unless
    given; `on_progress` is called with the job each time its progress is written."""
    actor = actor or job.requested_by
    job_start(job)
    storage = get_storage()
    progress = ImportProgress(job, on_update=on_progress)
    try:
        if job.source.startswith("s3://"):
            specs = _import_s3(job, storage, progress)
        else:
            specs = _import_local(job, storage, progress)
        progress.finish()
        with transaction.atomic():
            release = release_create(actor=actor, model=job.model, version=job.version, files=specs, notes=job.notes)
            record(
                actor=actor,
                action=AuditAction.DOWNLOAD_RELEASE_IMPORTED,
                target=release,
                source=job.source,
                file_count=len(specs),
                total_bytes=sum(s.size for s in specs),
                files_reused=progress.files_reused,
                backend=storage.name,
            )
            job_done(job, release=release)
        return release
    except (Exception, KeyboardInterrupt) as error:
        # Ctrl-C too: a job left "running" would say so forever.
        message = getattr(error, "message", None) or str(error) or "Interrupted."
        progress.tick(force=True)  # the failed job shows how far it got
        job_fail(job, message)
        raise


def _import_local(job: ReleaseImport, storage: Storage, progress: ImportProgress) -> list[FileSpec]:
    files = _local_source_files(Path(job.source))
    sizes = {relative: path.stat().st_size for relative, path in files}
    progress.begin(files_total=len(files), bytes_total=sum(sizes.values()), hash_share=0.5)
    prefix = release_storage_prefix(job.model, job.version)
    specs = []
    for relative, path in files:
        progress.start_file(relative, sizes[relative])
        with open(path, "rb") as stream:
            sha256, size = sha256_of(stream, progress=progress.hashed)
        key = prefix + relative
        if storage.stored_sha256(key) == (size, sha256):
            progress.reused()  # an earlier, interrupted run stored this very file
        else:
            storage.put_file(key, path, sha256=sha256, progress=progress.stored)
        specs.append(FileSpec(path=relative, storage_key=key, size=size, sha256=sha256))
        progress.finish_file()
    return specs


def _import_s3(job: ReleaseImport, storage: Storage, progress: ImportProgress) -> list[FileSpec]:
    prefix = job.source[5:].split("/", 1)[1] if "/" in job.source[5:] else ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    staged = ReleaseUpload.objects.filter(release_import=job).exists()  # the upload's own staging area
    if not staged and (reached := foreign_area(prefix, model=job.model)) is not None:
        # Checked again here: another model may have indexed files under it since the job was made.
        raise ValidationFailed(_("%(source)s would reach %(area)s.") % {"source": job.source, "area": reached})
    objects = list(storage.list(prefix))
    if not objects:
        raise ValidationFailed(_("Nothing is stored under %(source)s.") % {"source": job.source})
    for obj in objects:  # before hashing anything: a key no release may hold fails the job at once
        require_file_path(obj.key[len(prefix) :], field="source")
    progress.begin(files_total=len(objects), bytes_total=sum(o.size for o in objects), hash_share=1.0)
    specs = []
    for obj in objects:
        progress.start_file(obj.key[len(prefix) :], obj.size)
        stream = storage.open(obj.key)
        try:
            sha256, size = sha256_of(stream, progress=progress.hashed)
        finally:
            stream.close()
        specs.append(FileSpec(path=obj.key[len(prefix) :], storage_key=obj.key, size=size, sha256=sha256))
        progress.finish_file()
    return specs
