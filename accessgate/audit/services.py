import json
import logging
import tempfile
from datetime import UTC, date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accessgate.core.errors import InvalidTransition
from accessgate.core.jobs import JobStatus, job_done, job_fail, job_start, job_update
from accessgate.core.storage import get_storage, sha256_of
from accessgate.core.tasks import queue_after_commit

from . import signing
from .actions import AuditAction, validate
from .chain import GENESIS
from .chainer import chain_on_commit
from .context import RequestMeta
from .exports import (
    HashingWriter,
    build_manifest,
    chain_ends,
    clean_filters,
    export_rows,
    signed_manifest,
    write_lines,
    write_rows,
)
from .models import AuditEvent, AuditExport, ChainHead, ExportFormat, VerificationRun
from .selectors import filter_events
from .signals import event_recorded, heard
from .verification import verify_chain

SYSTEM_LABEL = "system"
logger = logging.getLogger(__name__)


def _check_details(value, path="details"):
    # Details must stay canonical-JSON friendly: named keys, no floats.
    if isinstance(value, float):
        raise TypeError(f"{path} holds a float; store integers or strings in audit details.")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path} has a non-string key {key!r}.")
            _check_details(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_details(item, f"{path}[{index}]")
    elif value is not None and not isinstance(value, (str, int, bool)):
        raise TypeError(f"{path} holds a {type(value).__name__}; convert it to a string first.")


# The columns an inserter fills, in this order: `record()` here, and the resolve fast path's
# statement (downloads/fast.py). `seq`, `prev_hash`, `hash` and `line` stay NULL; the chainer
# fills them after commit, in the database, from these columns, so any inserter is right by
# construction. `details` must be a JSON object of named keys without floats (`_check_details`).
EVENT_COLUMNS = (
    "created_at", "actor_id", "actor_label", "action", "target_type", "target_id", "target_label",
    "ip", "user_agent", "details",
)  # fmt: skip


def _insert(event: AuditEvent) -> None:
    """One plain INSERT … RETURNING id: the request path's whole cost of auditing.

    (Model.save() would do the same through the ORM's compiler at several times the CPU.)"""
    connection = transaction.get_connection()
    values = [getattr(event, name) for name in EVENT_COLUMNS]
    # `details` passed _check_details (plain JSON types only), so json.dumps is all the
    # JSONField would do, without its adapter objects.
    values[-1] = json.dumps(event.details)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL[connection.vendor == "postgresql"], values)
        event.pk = cursor.fetchone()[0]
    event._state.adding, event._state.db = False, connection.alias


_INSERT = f"INSERT INTO audit_auditevent ({', '.join(EVENT_COLUMNS)}) VALUES "  # noqa: S608 (constant names)
_INSERT_SQL = {  # [SQLite, PostgreSQL]
    False: _INSERT + "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
    True: _INSERT + "(%s, %s, %s, %s, %s, %s, %s, %s::inet, %s, %s::jsonb) RETURNING id",
}


_ATTNAMES: list[str] = []


def _new_event(**values) -> AuditEvent:
    """AuditEvent(**values), by Django's positional fast path (keyword arguments cost a
    lookup per field on every append); fields not given are None (the chain fields, id)."""
    if not _ATTNAMES:
        _ATTNAMES.extend(field.attname for field in AuditEvent._meta.concrete_fields)
    return AuditEvent(*(values.get(name) for name in _ATTNAMES))


def _chain_after_commit() -> None:
    connection = transaction.get_connection()
    if not any(item[1] is chain_on_commit for item in connection.run_on_commit):
        transaction.on_commit(chain_on_commit)


def record(
    *,
    actor: AbstractBaseUser | None,
    action: AuditAction | str,
    target: models.Model | None = None,
    meta: RequestMeta | None = None,
    **details,
) -> AuditEvent:
    """Append an audit event. Must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic() with its state change.")
    action = validate(action)
    _check_details(details)
    meta = meta or RequestMeta()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    # Only an INSERT: no shared row is locked, so appends scale with the database. The
    # chainer links the event into the hash chain once this transaction has committed.
    event = _new_event(
        created_at=timezone.now(),
        actor_id=actor.pk if is_user else None,
        actor_label=actor.email if is_user else SYSTEM_LABEL,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:300] if target is not None else "",
        ip=meta.ip or None,
        user_agent=meta.user_agent,
        details=details,
    )
    _insert(event)
    if settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT:
        _chain_after_commit()
    # Still inside the caller's transaction: what receivers write commits with the event.
    event_recorded.send(sender=AuditEvent, event=event)
    return event


def inserted(event: AuditEvent) -> AuditEvent:
    """The rest of `record()` for an event a caller inserted with its own SQL (the resolve fast
    path writes the row in the statement that decides, built from `record()`'s columns): link
    it after commit (at once in autocommit), and tell the receivers inside the same transaction."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block and heard(event.action):
        # Alone in autocommit (the statement was its own transaction) only when no receiver
        # acts on this action: what they write must commit with the event.
        raise RuntimeError("audit.inserted() must run inside the transaction that inserted the event.")
    event._state.adding, event._state.db = False, connection.alias
    if settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT:
        _chain_after_commit()
    event_recorded.send(sender=AuditEvent, event=event)
    return event


def chain_head(*, lock: bool = False) -> tuple[int, str]:
    """The chain's head (`seq`, `hash`); with `lock`, held until the transaction ends, so no
    event can be linked meanwhile (the chainer locks the same row; appends do not wait)."""
    heads = ChainHead.objects.select_for_update() if lock else ChainHead.objects
    if lock:
        head = heads.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})[0]
    else:
        head = heads.filter(id=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS)


# --- requests (audited, from the views) ----------------------------------------------------


@transaction.atomic
def audit_export_request(
    *, actor: AbstractBaseUser, filters: dict, format: str = ExportFormat.JSONL, meta: RequestMeta | None = None
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


@transaction.atomic
def audit_verification_request(*, actor: AbstractBaseUser, meta: RequestMeta | None = None) -> VerificationRun:
    run = VerificationRun.objects.create(requested_by=actor)
    queue_after_commit(
        "accessgate.audit.tasks.run_verification", run.pk, job=(VerificationRun, run.pk), what="the check"
    )
    return run


@transaction.atomic
def audit_export_download(
    *, actor: AbstractBaseUser, export: AuditExport, part: str, meta: RequestMeta | None = None
) -> str | dict:
    """Record the download and return a signed URL (file) or the signed manifest (manifest)."""
    if export.status != JobStatus.DONE:
        raise InvalidTransition(_("This export is not finished yet."))
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


def audit_export_run(export: AuditExport, *, key_prefix: str = "audit-exports/") -> AuditExport:
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

        def progress(n):
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
                with open(path, "rb") as handle:
                    sha256, _size = sha256_of(handle)
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
        from .checkpoints import EXPORT, checkpoint_create

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


def audit_verification_run(run: VerificationRun) -> VerificationRun:
    job_start(run, total=chain_head()[0])  # the head's seq: a COUNT would scan the whole trail
    result = verify_chain(progress=lambda n: job_update(run, checked=n))
    with transaction.atomic():
        job_done(run, ok=result.ok, checked=result.checked, broken_seq=result.broken_seq, summary=result.summary())
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
