"""Receipts: a signed copy of one audit event, with the checkpoint that covers it.

    {"receipt": {"format": "accessgate-audit-receipt/1", "issued_at": str, "key_id": str,
                 "event": <the hashed fields, as in chain.py>, "prev_hash": str, "hash": str,
                 "checkpoint": {"checkpoint": {...}, "signature": str}},
     "signature": str}

Offline (public key + scripts/verify_audit_export.py --receipt) anyone can check the
signatures, that `hash = sha256(prev_hash || canonical_json(event))`, and that the
checkpoint's `seq` is at or after the event. Against the live trail (`verify_audit
--receipt`) or a full export, a receipt exposes an event that was rewritten after it was
issued: the event at that `seq` no longer has the receipt's hash.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.http import JsonResponse
from django.utils import timezone

from accessgate.core.http import AuthenticatedRequest

from . import signing
from .chain import chain_hash, event_payload, format_time
from .chainer import chain_all
from .checkpoints import RECEIPT, CheckpointProblem, check_checkpoint, checkpoint_create, parse_signed
from .context import RequestMeta
from .models import AuditEvent, Checkpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

FORMAT = "accessgate-audit-receipt/1"


def receipt_issue(*, event: AuditEvent, actor: "_User | None", meta: RequestMeta | None = None) -> dict[str, Any]:
    """The signed receipt of `event`; signs a checkpoint first when none covers it yet."""
    if event.seq is None:  # committed moments ago, not linked yet: link it now
        chain_all()
        event.refresh_from_db()
    checkpoint = Checkpoint.objects.filter(seq__gte=event.seq).order_by("seq", "id").first()
    if checkpoint is None:
        checkpoint, _ = checkpoint_create(actor=actor, reason=RECEIPT, meta=meta)
    document = {
        "format": FORMAT,
        "issued_at": format_time(timezone.now()),
        "key_id": signing.key_id(),
        "event": event_payload(event),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "checkpoint": checkpoint.signed,
    }
    return {"receipt": document, "signature": signing.sign(document)}


def receipt_file_name(event: AuditEvent) -> str:
    return f"audit-receipt-{event.seq}.json"


def receipt_response(request: AuthenticatedRequest, event: AuditEvent) -> JsonResponse:
    """The receipt of `event` as a JSON download (the apps' views decide who may have it)."""
    document = receipt_issue(event=event, actor=request.user, meta=RequestMeta.from_request(request))
    response = JsonResponse(document, json_dumps_params={"indent": 2, "sort_keys": True})
    response["Content-Disposition"] = f'attachment; filename="{receipt_file_name(event)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@dataclass(frozen=True)
class ReceiptProblem:
    name: str
    problem: str

    def __str__(self) -> str:
        return f"receipt {self.name}: {self.problem}"


def check_receipt(
    name: str, data: bytes | dict[str, Any], *, key: Ed25519PublicKey | None = None
) -> list[ReceiptProblem | CheckpointProblem]:
    """Problems with a receipt, checked against the live trail (empty: it holds)."""
    try:
        document, signature = parse_signed(data, "receipt")
        event, seq = document["event"], int(document["event"]["seq"])
        claimed = document["hash"]
    except (ValueError, KeyError, TypeError) as error:
        return [ReceiptProblem(name, f"unreadable ({error})")]
    if not signing.verify(document, signature, key):
        return [ReceiptProblem(name, "bad signature (the receipt was changed, or signed by another key)")]
    if chain_hash(document["prev_hash"], event) != claimed:
        return [ReceiptProblem(name, f"event #{seq} does not match the receipt's hash")]
    problems: list[ReceiptProblem | CheckpointProblem] = []
    found = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if found is None:
        problems.append(ReceiptProblem(name, f"event #{seq} is no longer in the trail"))
    elif found != claimed:
        problems.append(
            ReceiptProblem(name, f"event #{seq} was changed after this receipt was issued (its hash differs)")
        )
    checkpoint_problem: CheckpointProblem | None = check_checkpoint(
        f"{name}#checkpoint", document["checkpoint"], key=key
    )
    if checkpoint_problem:
        problems.append(checkpoint_problem)
    return problems
