"""The audit export file format: rows and the manifest.

Each row carries every hashed field plus `prev_hash` and `hash`, so each row can be re-hashed
outside the portal; a full export also lets the whole chain be re-linked. The manifest names
the file's sha256, row count, first and last events and the filters, and is signed with the
portal's Ed25519 key (see `services.audit_export_run`).
"""

import csv
import io

from django.db.models import QuerySet
from django.utils import timezone

from . import signing
from .chain import canonical_json, event_payload, format_time
from .models import AuditEvent, AuditExport, ExportFormat
from .verification import BATCH, EventRow

MANIFEST_FORMAT = "accessgate-audit-export/1"
CSV_COLUMNS = [
    "seq", "created_at", "actor_id", "actor_label", "action", "target_type", "target_id",
    "target_label", "ip", "user_agent", "details", "prev_hash", "hash",
]  # fmt: skip
FILTER_KEYS = ("since", "until", "actor", "action", "model", "ip", "reason")
# A spreadsheet runs a cell that begins with one of these as a formula (OWASP "CSV
# injection"). CSV cells that begin with one of them, or with the quote itself, get a
# leading "'"; a reader removes exactly one leading "'" to get the exact value back.
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_QUOTE = "'"


def csv_cell(value) -> str:
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


def clean_filters(filters: dict) -> dict:
    return {key: str(filters[key]) for key in FILTER_KEYS if filters.get(key) not in (None, "")}


def signed_manifest(export: AuditExport) -> dict:
    return {"manifest": export.manifest, "signature": export.signature}


def export_rows(events: QuerySet[AuditEvent]):
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
