"""Checkpoints: the chain head signed by the portal and kept outside the database.

A checkpoint is the document

    {"format": "accessgate-audit-checkpoint/1", "seq": int, "hash": str, "created_at": str,
     "key_id": str, "signature_algorithm": "Ed25519", "reason": str, "portal": str}

signed with the audit key (Ed25519 over its canonical JSON, like export manifests) and kept
as `{"checkpoint": …, "signature": …}`. Each one is written to the configured storage under
its own prefix (never overwritten: the key names seq and hash), published at
`/audit/checkpoints/latest.json` and optionally e-mailed. The row in the database is for
listing; `verify_audit` checks the chain against the stored copies and any saved files.

Creating a checkpoint is itself an audit event, and the checkpoint signs the head *including*
that event; so while no other event arrives, the head stays the checkpoint's and the
scheduled job writes nothing (idempotent).
"""

import base64
import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accessgate.core.storage import get_storage
from accessgate.core.storage.backends import S3Storage

from . import signing
from .actions import AuditAction
from .chain import format_time
from .chainer import chain_all
from .context import RequestMeta
from .models import AuditEvent, Checkpoint
from .services import chain_head, record

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

logger = logging.getLogger(__name__)

FORMAT = "accessgate-audit-checkpoint/1"
# How `storage_key` names a checkpoint under the prefix; a stored object named otherwise is not one.
CHECKPOINT_NAME = re.compile(r"[0-9]{12}-[0-9a-f]{16}\.json")
MAX_CHECKPOINT_BYTES = 64 * 1024  # a checkpoint is well under 1 KiB
MAX_SEQ = 2**63  # a bigint column
SCHEDULED, EXPORT, MANUAL, RECEIPT = "scheduled", "export", "manual", "receipt"


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-seq", "-id").first()


def checkpoint_create(
    *, actor: "_User | None", reason: str, meta: RequestMeta | None = None
) -> tuple[Checkpoint, bool]:
    """Sign the current head; returns (checkpoint, created). Unchanged head: the latest one."""
    with transaction.atomic():
        chain_head(lock=True)  # nothing can be linked between check and sign but by us
        chain_all()  # first link what has committed, so the checkpoint covers it
        seq, head_hash = chain_head()
        latest = latest_checkpoint()
        if latest is not None and (latest.seq, latest.hash) == (seq, head_hash):
            return latest, False
        event = record(
            actor=actor,
            action=AuditAction.AUDIT_CHECKPOINT_CREATED,
            meta=meta,
            reason=reason,
            previous_seq=latest.seq if latest else None,
        )
        chain_all()  # link the checkpoint's own event, in this transaction: it is the head
        event.refresh_from_db()
        assert event.seq is not None and event.hash is not None  # chain_all() linked it just now
        document = {
            "format": FORMAT,
            "seq": event.seq,
            "hash": event.hash,
            "created_at": format_time(event.created_at),
            "key_id": signing.key_id(),
            "signature_algorithm": "Ed25519",
            "reason": reason,
            "portal": settings.SITE_URL,
        }
        checkpoint = Checkpoint.objects.create(
            seq=event.seq,
            hash=event.hash,
            created_at=event.created_at,
            reason=reason,
            key_id=document["key_id"],
            document=document,
            signature=signing.sign(document),
        )
        # Stored after commit only: a stored checkpoint of a rolled-back head would later
        # look like tampering.
        transaction.on_commit(lambda: checkpoint_store(checkpoint))
    return checkpoint, True


def storage_key(checkpoint: Checkpoint) -> str:
    # seq zero-padded (listing order) and the hash (a later checkpoint at the same seq, after
    # a rewrite, cannot overwrite the earlier one).
    return f"{settings.ACCESSGATE_AUDIT_CHECKPOINT_PREFIX}{checkpoint.seq:012d}-{checkpoint.hash[:16]}.json"


def checkpoint_file(checkpoint: Checkpoint) -> bytes:
    return json.dumps(checkpoint.signed, indent=2, sort_keys=True).encode() + b"\n"


def _put(key: str, body: bytes) -> None:
    storage = get_storage()
    if isinstance(storage, S3Storage):  # S3: one PUT, with Object Lock retention when configured
        extra = {}
        days = settings.ACCESSGATE_AUDIT_CHECKPOINT_LOCK_DAYS
        if days:
            extra = {
                "ObjectLockMode": settings.ACCESSGATE_AUDIT_CHECKPOINT_LOCK_MODE,
                "ObjectLockRetainUntilDate": timezone.now() + timedelta(days=days),
            }
        storage.client.put_object(
            Bucket=storage.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentMD5=base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode(),  # noqa: S324 (S3 Object Lock requires Content-MD5)
            **extra,
        )
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "checkpoint.json"
        path.write_bytes(body)
        storage.put_file(key, path)


def checkpoint_store(checkpoint: Checkpoint) -> bool:
    """Write the checkpoint to storage (and e-mail it); a failure is kept for the next try."""
    key, body = storage_key(checkpoint), checkpoint_file(checkpoint)
    try:
        _put(key, body)
    except Exception as error:
        logger.exception("Audit checkpoint #%s could not be stored", checkpoint.seq)
        Checkpoint.objects.filter(pk=checkpoint.pk).update(store_error=str(error)[:2000])
        return False
    Checkpoint.objects.filter(pk=checkpoint.pk).update(storage_key=key, stored_at=timezone.now(), store_error="")
    checkpoint.storage_key = key
    recipients = settings.ACCESSGATE_AUDIT_CHECKPOINT_EMAILS
    if recipients:
        message = EmailMessage(
            subject=f"[accessgate] audit checkpoint #{checkpoint.seq}",
            body=(
                f"The audit chain's head at #{checkpoint.seq} is {checkpoint.hash}, signed by key "
                f"{checkpoint.key_id}.\nKeep the attached file: `manage.py verify_audit --checkpoint FILE` "
                "or scripts/verify_audit_export.py checks the trail against it.\n"
            ),
            to=recipients,
        )
        message.attach(key.rsplit("/", 1)[-1], body, "application/json")
        try:
            message.send()
        except Exception:
            logger.exception("Audit checkpoint #%s could not be e-mailed", checkpoint.seq)
    return True


def store_pending() -> int:
    """Retry checkpoints that were not stored (storage down); returns how many are stored now."""
    return sum(checkpoint_store(c) for c in Checkpoint.objects.filter(stored_at=None).order_by("seq"))


# --- checking the chain against checkpoints ------------------------------------------------


@dataclass(frozen=True)
class CheckpointProblem:
    name: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        at = f" (#{self.seq})" if self.seq is not None else ""
        return f"checkpoint {self.name}{at}: {self.problem}"


def stored_checkpoint_files(skipped: list[CheckpointProblem] | None = None) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every checkpoint in storage: the objects directly under the checkpoint
    prefix named the way `storage_key` names them, read only up to `MAX_CHECKPOINT_BYTES`.

    Anything else under the prefix (a nested key, another name) is no checkpoint the portal
    wrote and carries no claim about the chain: it is never read, and is appended to
    `skipped` by name so that the caller reports it."""
    storage = get_storage()
    prefix = settings.ACCESSGATE_AUDIT_CHECKPOINT_PREFIX
    for item in storage.list(prefix):
        name = f"storage:{item.key}"
        if not CHECKPOINT_NAME.fullmatch(item.key[len(prefix) :]):
            if skipped is not None:
                skipped.append(CheckpointProblem(name, None, "not a checkpoint (skipped)"))
            continue
        stream = storage.open(item.key)
        try:
            yield name, stream.read(MAX_CHECKPOINT_BYTES + 1)
        finally:
            stream.close()


def _seq_of(document: dict[str, Any]) -> int:
    seq = document["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 < seq < MAX_SEQ:
        raise ValueError(f"'seq' is not an event number: {str(seq)[:40]}")
    return seq


def parse_signed(data: bytes | dict[str, Any], kind: str = "checkpoint") -> tuple[dict[str, Any], str]:
    document = json.loads(data) if isinstance(data, (bytes, str)) else data
    if not isinstance(document, dict) or not isinstance(document.get(kind), dict):
        raise ValueError(f"not a signed {kind} (no '{kind}' object)")
    if not isinstance(document.get("signature"), str):
        raise ValueError(f"not a signed {kind} (no 'signature')")
    return document[kind], document["signature"]


def check_checkpoint(
    name: str,
    data: bytes | dict[str, Any],
    *,
    key: Ed25519PublicKey | None = None,
    hashes: dict[int, str] | None = None,
) -> CheckpointProblem | None:
    """None when the checkpoint is validly signed and the chain still holds its head.
    `hashes`: {seq: hash} already read from the trail (saves a query per checkpoint)."""
    if isinstance(data, bytes) and len(data) > MAX_CHECKPOINT_BYTES:
        return CheckpointProblem(name, None, f"too large to be a checkpoint (over {MAX_CHECKPOINT_BYTES} bytes)")
    try:
        document, signature = parse_signed(data)
        seq, expected = _seq_of(document), str(document["hash"])
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        return CheckpointProblem(name, None, f"unreadable ({error})")
    if not signing.verify(document, signature, key):
        return CheckpointProblem(
            name, seq, f"bad signature (changed, or signed by key {document.get('key_id')}, not {signing.key_id()})"
        )
    found: str | None
    if hashes is not None and seq in hashes:
        found = hashes[seq]
    else:
        found = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if found is None:
        last = AuditEvent.objects.filter(seq__isnull=False).order_by("-seq").values_list("seq", flat=True).first() or 0
        if last < seq:
            return CheckpointProblem(
                name, seq, f"the chain is shorter than this checkpoint: it ends at #{last} (history was cut)"
            )
        return CheckpointProblem(name, seq, f"event #{seq} is missing")
    if found != expected:
        return CheckpointProblem(
            name,
            seq,
            f"does not match: event #{seq} has hash {found[:16]}…, the checkpoint signed {expected[:16]}… "
            "(history up to it was rewritten)",
        )
    return None


def check_all(
    files: list[tuple[str, bytes]], *, use_storage: bool = True
) -> tuple[int, list[CheckpointProblem], list[CheckpointProblem]]:
    """Check every given and stored checkpoint; returns (how many were read, problems, objects
    under the checkpoint prefix that are not checkpoints and were skipped)."""
    sources = list(files)
    problems: list[CheckpointProblem] = []
    skipped: list[CheckpointProblem] = []
    if use_storage:
        try:
            sources += list(stored_checkpoint_files(skipped))
        except Exception as error:
            problems.append(CheckpointProblem("storage", None, f"could not be read ({error})"))
    hashes = _hashes_at(sources)
    problems += [p for name, data in sources if (p := check_checkpoint(name, data, hashes=hashes))]
    return len(sources), problems, skipped


def _hashes_at(sources: Iterable[tuple[str, bytes | dict[str, Any]]]) -> dict[int, str]:
    """The trail's hashes at every seq the checkpoints name, read in a few queries."""
    seqs = set()
    for _, data in sources:
        try:
            seqs.add(_seq_of(parse_signed(data)[0]))
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
    ordered = sorted(seqs)
    hashes: dict[int, str] = {}
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        # Linked events (a seq) always carry their hash.
        hashes.update(
            cast(
                "QuerySet[AuditEvent, tuple[int, str]]",
                AuditEvent.objects.filter(seq__in=chunk).values_list("seq", "hash"),
            )
        )
    return hashes
