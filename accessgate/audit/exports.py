"""The audit export file format: rows and the manifest.

Each row carries every hashed field plus `prev_hash` and `hash`, so each row can be re-hashed
outside the portal; a full export also lets the whole chain be re-linked. The manifest names
the file's sha256, row count, first and last events and the filters, and is signed with the
portal's Ed25519 key (see `audit_export_run`).

The services below request, run and hand out exports; each writes its audit event.
"""

import csv
import hashlib
import io
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.core.errors import InvalidTransition
from accessgate.core.jobs import JobStatus, job_done, job_fail, job_start, job_update
from accessgate.core.storage import get_storage, prefixes, sha256_of
from accessgate.core.tasks import queue_after_commit

from . import signing
from .actions import AuditAction
from .chain import canonical_json, event_payload, format_time
from .checkpoints import EXPORT, checkpoint_create
from .context import RequestMeta
from .models import AuditEvent, AuditExport, ExportFormat
from .selectors import filter_events
from .services import record
from .verification import BATCH, EventRow

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = "accessgate-audit-export/1"
CSV_COLUMNS = [
    "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details", "prev_hash", "hash",
]  # fmt: skip
FILTER_KEYS = ("since", "until", "actor", "action", "model", "ip", "reason", "person", "target")
# The person filter resolved when asked (their account and the targets that were theirs then),
# kept as they are so the export's manifest says exactly what was matched.
RESOLVED_KEYS = ("person_id", "person_targets")
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP "CSV
# injection"). CSV cells that begin with one of them, or with the quote itself, get a
# leading "'"; a reader removes exactly one leading "'" to get the exact value back.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_QUOTE = "'"


def csv_cell(value: object) -> str:
    """The text written to a CSV cell: exact, except a formula-looking start is neutralised."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(CSV_FORMULA_STARTS) or text.startswith(CSV_QUOTE):
        return CSV_QUOTE + text
    return text


def csv_value(cell: str) -> str:
    """The exact value of a CSV cell written by `csv_cell` (the inverse)."""
    return cell[1:] if cell.startswith(CSV_QUOTE) else cell


def clean_filters(filters: dict[str, Any]) -> dict[str, Any]:
    cleaned = {key: str(filters[key]) for key in FILTER_KEYS if filters.get(key) not in (None, "")}
    if cleaned.get("person"):
        cleaned.update({key: filters[key] for key in RESOLVED_KEYS if filters.get(key) not in (None, "")})
    return cleaned


def signed_manifest(export: AuditExport) -> dict[str, Any]:
    return {"manifest": export.manifest, "signature": export.signature}


def export_rows(events: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    for values in events.order_by("seq").values_list(*EventRow.__slots__).iterator(chunk_size=BATCH):
        row = EventRow(values)
        yield {**event_payload(row), "prev_hash": row.prev_hash, "hash": row.hash}


# CSV mode with a delimiter and a quote character that JSON never holds raw (json.dumps
# escapes every control character): PostgreSQL then writes each stored line byte for byte.
COPY_LINES = "COPY ({query}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"


class HashingWriter:
    """A binary file that also computes the sha256 of what goes through it."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        written = self.handle.write(data)
        return written

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


def write_lines(
    events: QuerySet[AuditEvent], handle: IO[bytes] | HashingWriter, progress: Callable[[int], None] | None = None
) -> int:
    """JSON Lines: the lines stored at chaining, in seq order, streamed by `COPY` on PostgreSQL."""
    lines = events.order_by("seq").values_list("line", flat=True)
    count = 0
    if connection.vendor != "postgresql":
        for line in lines.iterator(chunk_size=BATCH):
            assert line is not None  # linked events only: each has its line
            handle.write(line.encode() + b"\n")
            count += 1
            if progress and count % BATCH == 0:
                progress(count)
        return count
    sql, params = lines.query.sql_with_params()
    # No progress writes during the COPY: the connection is busy streaming (and COPY runs at
    # disk speed anyway); progress is reported once it is done.
    with connection.cursor() as cursor, cursor.copy(COPY_LINES.format(query=sql), params) as copy:
        for block in copy:
            block = bytes(block)
            handle.write(block)
            count += block.count(b"\n")
    if progress:
        progress(count)
    return count


def chain_ends(events: QuerySet[AuditEvent]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first and last rows' chain fields, for the manifest."""
    fields = ("seq", "prev_hash", "hash")
    return events.order_by("seq").values(*fields).first(), events.order_by("-seq").values(*fields).first()


def write_rows(
    rows: Iterable[dict[str, Any]],
    handle: IO[bytes],
    file_format: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, dict[str, Any] | None, dict[str, Any] | None]:
    """Stream rows to a binary file; returns (count, first row, last row)."""
    count, first, last = 0, None, None
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="") if file_format == ExportFormat.CSV else None
    writer = csv.writer(text, lineterminator="\n") if text else None
    if writer:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        if writer:
            values = {**row, "details": canonical_json(row["details"]).decode()}
            writer.writerow([csv_cell(values[c]) for c in CSV_COLUMNS])
        else:
            handle.write(canonical_json(row) + b"\n")
        first = first or row
        last = row
        count += 1
        if progress and count % BATCH == 0:
            progress(count)
    if text:
        text.flush()
        text.detach()
    return count, first, last


def build_manifest(
    export: AuditExport, *, sha256: str, count: int, first: dict[str, Any] | None, last: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "export_id": export.pk,
        "file_name": export.file_name,
        "file_format": export.format,
        "sha256": sha256,
        "row_count": count,
        "full": export.is_full,
        "filters": export.filters,
        "first_seq": first["seq"] if first else None,
        "last_seq": last["seq"] if last else None,
        "first_prev_hash": first["prev_hash"] if first else None,
        "first_hash": first["hash"] if first else None,
        "last_hash": last["hash"] if last else None,
        "requested_by": export.requested_by_label,
        "requested_at": format_time(export.created_at),
        "finished_at": format_time(timezone.now()),
        "signature_algorithm": "Ed25519",
        "key_id": signing.key_id(),
    }


# --- services: requested from the views and the API, run by the tasks --------------------


@transaction.atomic
def audit_export_request(
    *, actor: "_User | None", filters: dict[str, Any], format: str = ExportFormat.JSONL, meta: RequestMeta | None = None
) -> AuditExport:
    filters = clean_filters(filters)
    export = AuditExport.objects.create(
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        requested_by_label=getattr(actor, "email", "system"),
        filters=filters,
        format=ExportFormat(format),
        is_full=not filters,
    )
    record(
        actor=actor,
        action=AuditAction.AUDIT_EXPORT_REQUESTED,
        target=export,
        meta=meta,
        filters=filters,
        format=export.format,
        full=export.is_full,
    )
    queue_after_commit("accessgate.audit.tasks.run_export", export.pk, job=(AuditExport, export.pk), what="the export")
    return export


@overload
def audit_export_download(
    *, actor: "_User", export: AuditExport, part: Literal["file"], meta: RequestMeta | None = None
) -> str: ...
@overload
def audit_export_download(
    *, actor: "_User", export: AuditExport, part: Literal["manifest"], meta: RequestMeta | None = None
) -> dict[str, Any]: ...
@transaction.atomic
def audit_export_download(
    *, actor: "_User", export: AuditExport, part: str, meta: RequestMeta | None = None
) -> str | dict[str, Any]:
    """Record the download and return a signed URL (file) or the signed manifest (manifest)."""
    if export.status != JobStatus.DONE:
        raise InvalidTransition(_("This export is not finished yet."))
    assert export.manifest is not None  # a finished export has its manifest
    record(
        actor=actor,
        action=AuditAction.AUDIT_EXPORT_DOWNLOADED,
        target=export,
        meta=meta,
        part=part,
        sha256=export.manifest["sha256"],
    )
    if part == "manifest":
        return signed_manifest(export)
    storage = get_storage()
    return storage.signed_url(
        export.storage_key,
        filename=export.file_name,
        sha256=export.manifest["sha256"],
        ttl_seconds=300,
        now=timezone.now(),
    )


def audit_export_run(export: AuditExport, *, key_prefix: str = prefixes.AUDIT_EXPORTS) -> AuditExport:
    """Stream the rows to a temporary file (bounded memory), store it, sign the manifest."""
    job_start(export)
    try:
        # Linked events only: an event the chainer has not reached yet has no place in the chain.
        # Fix the end now, so rows linked meanwhile do not shift the export.
        last_seq = (
            AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first() or 0
        )
        events = filter_events(export.filters).filter(seq__isnull=False, seq__lte=last_seq)
        # For the progress bar only (the manifest counts what was written). A full export
        # holds every seq up to the end, so skip the COUNT (a whole-table scan, ~1 s at 1M).
        total = last_seq if not export.filters else events.count()
        job_update(export, rows_total=total)

        def progress(n: int) -> None:
            job_update(export, rows_done=n)

        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / export.file_name
            with open(path, "wb") as handle:
                if export.format == ExportFormat.JSONL:
                    hashing = HashingWriter(handle)  # hashed as it is written: no second read
                    count = write_lines(events, hashing, progress=progress)
                    first, last = chain_ends(events)
                    sha256 = hashing.hexdigest()
                else:
                    count, first, last = write_rows(export_rows(events), handle, export.format, progress=progress)
            if export.format != ExportFormat.JSONL:
                with open(path, "rb") as written:
                    sha256, _size = sha256_of(written)
            key = (
                f"{key_prefix}{export.file_name}"
                if export.scheduled_day
                else f"{key_prefix}{export.pk}/{export.file_name}"
            )
            storage = get_storage()
            storage.put_file(key, path)
            manifest = build_manifest(export, sha256=sha256, count=count, first=first, last=last)
            signature = signing.sign(manifest)
            manifest_path = Path(scratch) / "manifest.json"
            manifest_path.write_text(json.dumps({"manifest": manifest, "signature": signature}, indent=2) + "\n")
            storage.put_file(f"{key}.manifest.json", manifest_path)
        with transaction.atomic():
            job_done(export, rows_done=count, storage_key=key, manifest=manifest, signature=signature)
            record(
                actor=None,
                action=AuditAction.AUDIT_EXPORT_COMPLETED,
                target=export,
                row_count=count,
                sha256=sha256,
                first_seq=manifest["first_seq"],
                last_seq=manifest["last_seq"],
                storage_key=key,
            )
        # Every export also signs the head (covering its own completion) outside the database.
        try:
            checkpoint_create(actor=None, reason=EXPORT)
        except Exception:  # the export itself is done; the scheduled job signs the head later
            logger.exception("No checkpoint after export #%s", export.pk)
        return export
    except Exception as error:
        with transaction.atomic():
            job_fail(export, str(error))
            record(actor=None, action=AuditAction.AUDIT_EXPORT_FAILED, target=export, error=str(error)[:500])
        raise


def daily_export_due(*, today: date | None = None) -> AuditExport | None:
    """The export of yesterday's (UTC) events, created once; None if it exists already."""
    today = today or timezone.now().astimezone(UTC).date()
    day = today - timedelta(days=1)
    if AuditExport.objects.filter(scheduled_day=day).exists():
        return None
    with transaction.atomic():
        export = AuditExport.objects.create(
            requested_by_label="system (daily export)",
            filters={"since": day.isoformat(), "until": day.isoformat()},
            format=ExportFormat.JSONL,
            scheduled_day=day,
        )
        record(
            actor=None,
            action=AuditAction.AUDIT_EXPORT_REQUESTED,
            target=export,
            filters=export.filters,
            format=export.format,
            full=False,
            scheduled=True,
        )
    return export
