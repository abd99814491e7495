"""Audit exports and "verify now" runs: requested by auditors, done by Celery tasks.

An export file holds one row per event with every hashed field plus `prev_hash` and
`hash`, so each row can be re-hashed outside the portal; a full export also lets the
whole chain be re-linked. The manifest names the file's sha256, row count, first and last
events and the filters, and is signed with the portal's Ed25519 key.
"""

import csv
import io
import json
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accessgate.downloads.storage import get_storage, sha256_of

from . import signing
from .actions import AuditAction
from .chain import canonical_json, event_payload, format_time
from .context import RequestMeta
from .models import AuditEvent, AuditExport, ExportFormat, JobStatus, VerificationRun
from .services import record
from .verification import BATCH, EventRow, verify_chain

MANIFEST_FORMAT = "accessgate-audit-export/1"
CSV_COLUMNS = [
    "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details", "prev_hash", "hash",
]  # fmt: skip
FILTER_KEYS = ("since", "until", "actor", "action", "model", "ip")


def filter_events(filters: dict) -> QuerySet[AuditEvent]:
    """Events matching the viewer's and the exports' filters (days are UTC, `until` inclusive)."""
    events = AuditEvent.objects.all()
    if filters.get("since"):
        events = events.filter(created_at__gte=datetime.combine(date.fromisoformat(filters["since"]), time.min, UTC))
    if filters.get("until"):
        end = date.fromisoformat(filters["until"]) + timedelta(days=1)
        events = events.filter(created_at__lt=datetime.combine(end, time.min, UTC))
    if filters.get("actor"):
        events = events.filter(actor_label__icontains=filters["actor"])
    if filters.get("action"):
        events = events.filter(action__startswith=filters["action"])
    if filters.get("model"):
        model = filters["model"]
        events = events.filter(
            Q(details__model=model)
            | Q(target_type="catalog.model", target_label=model)
            | Q(target_type="catalog.release", target_label__startswith=f"{model}@")
        )
    if filters.get("ip"):
        events = events.filter(ip=filters["ip"])
    return events


def clean_filters(filters: dict) -> dict:
    return {key: str(filters[key]) for key in FILTER_KEYS if filters.get(key) not in (None, "")}


# --- requests (audited, from the views) ----------------------------------------------------


@transaction.atomic
def audit_export_request(
    *, actor, filters: dict, format: str = ExportFormat.JSONL, meta: RequestMeta | None = None
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
    transaction.on_commit(lambda: _queue("run_export", export.pk, AuditExport))
    return export


@transaction.atomic
def audit_verification_request(*, actor, meta: RequestMeta | None = None) -> VerificationRun:
    run = VerificationRun.objects.create(requested_by=actor)
    transaction.on_commit(lambda: _queue("run_verification", run.pk, VerificationRun))
    return run


def _queue(task_name: str, pk: int, job_model) -> None:
    from . import tasks

    try:
        getattr(tasks, task_name).delay(pk)
    except Exception as error:  # broker down: say so on the job instead of leaving it queued forever
        job_model.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, finished_at=timezone.now()
        )
        if job_model is AuditExport:
            AuditExport.objects.filter(pk=pk).update(error=f"Could not start the export ({error}); try again.")
        else:
            VerificationRun.objects.filter(pk=pk).update(summary=f"Could not start the check ({error}); try again.")


@transaction.atomic
def audit_export_download(*, actor, export: AuditExport, part: str, meta: RequestMeta | None = None) -> str | dict:
    """Record the download and return a signed URL (file) or the signed manifest (manifest)."""
    if export.status != JobStatus.DONE:
        from accessgate.errors import InvalidTransition

        raise InvalidTransition("This export is not finished yet.")
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


def signed_manifest(export: AuditExport) -> dict:
    return {"manifest": export.manifest, "signature": export.signature}


# --- the work (Celery tasks call these) -----------------------------------------------------


def _rows(events: QuerySet[AuditEvent]):
    for values in events.order_by("seq").values_list(*EventRow.__slots__).iterator(chunk_size=BATCH):
        row = EventRow(values)
        yield {**event_payload(row), "prev_hash": row.prev_hash, "hash": row.hash}


def write_rows(rows, handle, file_format: str, progress=None) -> tuple[int, dict | None, dict | None]:
    """Stream rows to a binary file; returns (count, first row, last row)."""
    count, first, last = 0, None, None
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="") if file_format == ExportFormat.CSV else None
    writer = csv.writer(text, lineterminator="\n") if text else None
    if writer:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        if writer:
            values = {**row, "details": canonical_json(row["details"]).decode()}
            writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
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


def build_manifest(export: AuditExport, *, sha256: str, count: int, first: dict | None, last: dict | None) -> dict:
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


def audit_export_run(export: AuditExport, *, key_prefix: str = "audit-exports/") -> AuditExport:
    """Stream the rows to a temporary file (bounded memory), store it, sign the manifest."""
    AuditExport.objects.filter(pk=export.pk).update(status=JobStatus.RUNNING, error="")
    try:
        events = filter_events(export.filters)
        if export.is_full:
            # Fix the end of a full export now, so rows appended meanwhile do not shift it.
            last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            events = events.filter(seq__lte=last_seq)
        total = events.count()
        AuditExport.objects.filter(pk=export.pk).update(rows_total=total)
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / export.file_name
            with open(path, "wb") as handle:
                count, first, last = write_rows(
                    _rows(events),
                    handle,
                    export.format,
                    progress=lambda n: AuditExport.objects.filter(pk=export.pk).update(rows_done=n),
                )
            with open(path, "rb") as handle:
                sha256, _ = sha256_of(handle)
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
            AuditExport.objects.filter(pk=export.pk).update(
                status=JobStatus.DONE,
                rows_done=count,
                storage_key=key,
                manifest=manifest,
                signature=signature,
                finished_at=timezone.now(),
            )
            export.refresh_from_db()
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
        return export
    except Exception as error:
        with transaction.atomic():
            AuditExport.objects.filter(pk=export.pk).update(
                status=JobStatus.FAILED, error=str(error)[:4000], finished_at=timezone.now()
            )
            record(actor=None, action=AuditAction.AUDIT_EXPORT_FAILED, target=export, error=str(error)[:500])
        raise


def audit_verification_run(run: VerificationRun) -> VerificationRun:
    total = AuditEvent.objects.count()
    VerificationRun.objects.filter(pk=run.pk).update(status=JobStatus.RUNNING, total=total)
    result = verify_chain(progress=lambda n: VerificationRun.objects.filter(pk=run.pk).update(checked=n))
    with transaction.atomic():
        VerificationRun.objects.filter(pk=run.pk).update(
            status=JobStatus.DONE,
            ok=result.ok,
            checked=result.checked,
            broken_seq=result.broken_seq,
            summary=result.summary(),
            finished_at=timezone.now(),
        )
        run.refresh_from_db()
        record(
            actor=run.requested_by,
            action=AuditAction.AUDIT_CHAIN_VERIFIED,
            target=run,
            ok=result.ok,
            checked=result.checked,
            last_seq=result.last_seq,
            broken_seq=result.broken_seq,
        )
    return run


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
