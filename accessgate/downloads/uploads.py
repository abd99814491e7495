"""Releases uploaded from the browser, chunked and resumable.

S3 backend: each file is one multipart upload the server opens and completes; the browser
PUTs the parts straight to presigned URLs, so the bytes never pass through the portal.
Local backend: the browser posts chunks to the portal, appended at the offset it names.
When every file is in, `upload_finish` hands the staged files to the release import (which
hashes them and creates the release), so both ways end on one audited path.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accessgate.accounts.models import User
from accessgate.audit.actions import AuditAction
from accessgate.audit.context import RequestMeta
from accessgate.audit.services import record
from accessgate.catalog.models import Model, Release
from accessgate.catalog.names import require_file_path, shown, validate_version
from accessgate.core.errors import Conflict, ValidationFailed
from accessgate.core.storage import CHUNK, get_storage
from accessgate.core.tasks import queue_after_commit

from .imports import release_import_prepare
from .models import LOCAL_CHUNK_SIZE, UPLOAD_PART_SIZE, ReleaseImport, ReleaseUpload, UploadedFile
from .tasks import run_release_import


def _staged_path(uploaded: UploadedFile) -> Path:
    if "\x00" in uploaded.path:  # the OS refuses it (ValueError): answer it as a bad path
        raise ValidationFailed(_("%(path)s is not a valid file path.") % {"path": uploaded.path.replace("\x00", "?")})
    target = (uploaded.upload.staging_dir / uploaded.path).resolve()
    if not target.is_relative_to(uploaded.upload.staging_dir.resolve()):
        raise ValidationFailed(_("%(path)s is not a valid file path.") % {"path": uploaded.path})
    return target


def upload_start(
    *,
    actor: User,
    model: Model,
    version: str,
    files: Iterable[tuple[str, int]],
    notes: str = "",
    meta: RequestMeta | None = None,
) -> ReleaseUpload:
    """Record a new upload of (path, size) files; S3 multipart uploads are opened here."""
    version = version.strip()
    files = list(files)
    if not version:
        raise ValidationFailed(_("Name the release's version."), field="version")
    try:
        validate_version(version)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), field="version") from error
    if Release.objects.filter(model=model, version=version).exists():
        raise ValidationFailed(
            _("%(full_name)s already has a release %(version)s.") % {"full_name": model.full_name, "version": version},
            field="version",
        )
    if not files:
        raise ValidationFailed(_("Choose at least one file."), field="files")
    for path, size in files:
        require_file_path(path, field="files")
        limit = settings.ACCESSGATE_UPLOAD_MAX_FILE_BYTES
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= limit:
            raise ValidationFailed(
                _("%(path)s: the size must be between 0 and %(limit)s bytes.") % {"path": shown(path), "limit": limit},
                field="files",
            )
    paths = [path for path, _ in files]
    if len(set(paths)) != len(paths):
        raise ValidationFailed(_("Two files have the same path."), field="files")
    storage = get_storage()
    with transaction.atomic():
        upload = ReleaseUpload.objects.create(
            model=model, version=version, notes=notes, backend=storage.name, requested_by=actor
        )
        UploadedFile.objects.bulk_create(UploadedFile(upload=upload, path=p, size=s) for p, s in files)
        record(
            actor=actor,
            action=AuditAction.DOWNLOAD_UPLOAD_STARTED,
            target=upload,
            meta=meta,
            model=model.full_name,
            version=version,
            file_count=len(files),
            total_bytes=sum(size for _, size in files),
            backend=storage.name,
        )
    if storage.name == "s3":
        for uploaded in upload.files.all():
            # Ignored: the s3 backend is S3Storage.
            uploaded.s3_upload_id = storage.multipart_create(upload.prefix + uploaded.path)  # type: ignore[attr-defined]
            uploaded.save(update_fields=["s3_upload_id"])
    return upload


def upload_state(upload: ReleaseUpload) -> dict:
    """What the browser needs to (re)start: per file, what is already stored."""
    return {
        "id": upload.pk,
        "backend": upload.backend,
        "status": upload.status,
        "part_size": UPLOAD_PART_SIZE,
        "chunk_size": LOCAL_CHUNK_SIZE,
        "files": [
            {
                "id": f.pk,
                "path": f.path,
                "size": f.size,
                "completed": f.completed,
                "bytes_received": f.bytes_received,
                "parts_done": sorted(int(n) for n in f.parts),
                "part_count": f.part_count,
            }
            for f in upload.files.all()
        ],
    }


def _open(uploaded: UploadedFile) -> None:
    if uploaded.upload.status != ReleaseUpload.Status.OPEN:
        raise Conflict(_("This upload is finished; start a new one."))
    if uploaded.completed:
        raise Conflict(_("%(path)s is already uploaded.") % {"path": uploaded.path})


def upload_part_url(*, uploaded: UploadedFile, part_number: int) -> str:
    """A presigned URL the browser PUTs one part to (S3 backend)."""
    _open(uploaded)
    if uploaded.upload.backend != "s3" or not 1 <= part_number <= uploaded.part_count:
        raise ValidationFailed(_("No such part."))
    # Ignored: the s3 backend is S3Storage.
    return get_storage().multipart_part_url(uploaded.upload.prefix + uploaded.path, uploaded.s3_upload_id, part_number)  # type: ignore[attr-defined]


@transaction.atomic
def upload_part_done(*, uploaded: UploadedFile, part_number: int, etag: str) -> UploadedFile:
    """Remember a part the browser stored (its ETag completes the upload later)."""
    uploaded = UploadedFile.objects.select_for_update().select_related("upload").get(pk=uploaded.pk)
    _open(uploaded)
    if not 1 <= part_number <= uploaded.part_count or not etag.strip():
        raise ValidationFailed(_("No such part, or no ETag."))
    uploaded.parts[str(part_number)] = etag.strip()
    uploaded.save(update_fields=["parts"])
    return uploaded


def upload_chunk(*, uploaded: UploadedFile, offset: int, stream: BinaryIO, length: int) -> UploadedFile:
    """Append one chunk (local backend). A chunk at another offset than the bytes stored is
    refused with the right offset, so a resumed upload continues where it stopped."""
    with transaction.atomic():
        uploaded = UploadedFile.objects.select_for_update().select_related("upload").get(pk=uploaded.pk)
        _open(uploaded)
        if uploaded.upload.backend != "local":
            raise ValidationFailed(_("This upload goes to S3, not through the portal."))
        if offset != uploaded.bytes_received:
            # The offset is for the upload script, not a count a person reads: left ungrouped.
            raise Conflict(_("Expected the chunk at offset %(offset)s.") % {"offset": uploaded.bytes_received})
        if length > LOCAL_CHUNK_SIZE or offset + length > uploaded.size:
            raise ValidationFailed(_("The chunk is too large."))
        target = _staged_path(uploaded)
        target.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with open(target, "r+b" if target.exists() else "wb") as out:
            out.truncate(offset)
            out.seek(offset)
            while written < length and (block := stream.read(min(CHUNK, length - written))):
                out.write(block)
                written += len(block)
        if written != length:
            raise ValidationFailed(_("The chunk arrived incomplete; send it again."))
        uploaded.bytes_received = offset + written
        uploaded.save(update_fields=["bytes_received"])
    return uploaded


def upload_file_complete(*, uploaded: UploadedFile) -> UploadedFile:
    _open(uploaded)
    if uploaded.upload.backend == "s3":
        missing = [n for n in range(1, uploaded.part_count + 1) if str(n) not in uploaded.parts]
        if missing:
            raise ValidationFailed(
                _("%(path)s: parts %(missing)s are not uploaded yet.") % {"path": uploaded.path, "missing": missing}
            )
        storage = get_storage()
        key = uploaded.upload.prefix + uploaded.path
        # Ignored: the s3 backend is S3Storage.
        storage.multipart_complete(key, uploaded.s3_upload_id, [(int(n), e) for n, e in uploaded.parts.items()])  # type: ignore[attr-defined]
        # Ignored: the s3 backend is S3Storage.
        if storage.size_of(key) != uploaded.size:  # type: ignore[attr-defined]
            raise ValidationFailed(
                _("%(path)s: the stored size differs from the file's; upload it again.") % {"path": uploaded.path}
            )
    else:
        if uploaded.bytes_received != uploaded.size:
            short = uploaded.size - uploaded.bytes_received
            raise ValidationFailed(
                ngettext("%(path)s: %(count)s byte is missing.", "%(path)s: %(count)s bytes are missing.", short)
                % {"path": uploaded.path, "count": short}
            )
        if uploaded.size == 0:
            _staged_path(uploaded).parent.mkdir(parents=True, exist_ok=True)
            _staged_path(uploaded).touch()
    uploaded.completed = True
    uploaded.save(update_fields=["completed"])
    return uploaded


def upload_finish(*, actor: User, upload: ReleaseUpload, meta: RequestMeta | None = None) -> ReleaseImport:
    """Every file is in: import the staged files as the release (hashing runs in the job)."""
    with transaction.atomic():
        upload = ReleaseUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.status != ReleaseUpload.Status.OPEN:
            raise Conflict(_("This upload is already finished."))
        for path in upload.files.values_list("path", flat=True):
            require_file_path(path, field="files")  # the rows as stored, whoever wrote them
        pending = list(upload.files.filter(completed=False).values_list("path", flat=True))
        if pending:
            raise ValidationFailed(_("These files are not uploaded yet: %(paths)s.") % {"paths": ", ".join(pending)})
        if upload.backend == "s3":
            source = f"s3://{settings.ACCESSGATE_S3['bucket']}/{upload.prefix}"
        else:
            source = str(upload.staging_dir)
        job = release_import_prepare(
            actor=actor, model=upload.model, version=upload.version, source=source, notes=upload.notes, staged=upload
        )
        upload.status = ReleaseUpload.Status.FINISHED
        upload.release_import = job
        upload.save(update_fields=["status", "release_import"])
        record(
            actor=actor,
            action=AuditAction.DOWNLOAD_UPLOAD_COMPLETED,
            target=upload,
            meta=meta,
            model=upload.model.full_name,
            version=upload.version,
            import_id=job.pk,
        )
        queue_after_commit(run_release_import, job.pk, job=(ReleaseImport, job.pk), what="the import")
    return job
