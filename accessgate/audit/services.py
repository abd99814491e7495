from django.db import models, transaction
from django.utils import timezone

from .actions import AuditAction
from .chain import GENESIS, chain_hash, event_payload
from .context import RequestMeta
from .models import AuditEvent, ChainHead

SYSTEM_LABEL = "system"


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


def record(
    *,
    actor,
    action: AuditAction,
    target: models.Model | None = None,
    meta: RequestMeta | None = None,
    **details,
) -> AuditEvent:
    """Append an audit event. Must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic() with its state change.")
    action = AuditAction(action)
    _check_details(details)
    meta = meta or RequestMeta()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    # Every append waits here for the previous transaction that appended to commit or roll
    # back; the chain therefore has one order, no gaps and no forks.
    head = ChainHead.objects.select_for_update().get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})[0]
    event = AuditEvent(
        seq=head.seq + 1,
        prev_hash=head.hash,
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
    event.hash = chain_hash(event.prev_hash, event_payload(event))
    event.save()
    ChainHead.objects.filter(id=1).update(seq=event.seq, hash=event.hash)
    return event
