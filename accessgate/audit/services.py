"""Writing the audit trail: `record()` appends an event, `inserted()` finishes one that a caller
inserted with its own SQL, and `chain_head()` reads (or locks) the head of the hash chain.

Exports live in `exports.py`, verification runs in `verification.py` and checkpoints in
`checkpoints.py`; each of them builds on this module, which imports none of them.
"""

import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .actions import AuditAction, validate
from .chain import GENESIS
from .chainer import chain_on_commit
from .context import RequestMeta
from .models import AuditEvent, ChainHead
from .signals import event_recorded, heard

if TYPE_CHECKING:
    from django.contrib.auth.models import _User

SYSTEM_LABEL = "system"


def _check_details(value: object, path: str = "details") -> None:
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


def _new_event(**values: Any) -> AuditEvent:
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
    actor: "_User | None",
    action: AuditAction | str,
    target: models.Model | None = None,
    meta: RequestMeta | None = None,
    **details: Any,
) -> AuditEvent:
    """Append an audit event. Must run inside the transaction of the change it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic() with its state change.")
    action = validate(action)
    _check_details(details)
    meta = meta or RequestMeta()
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    # Only an INSERT: no shared row is locked, so appends scale with the database. The
    # chainer links the event into the hash chain once this transaction has committed.
    event = _new_event(
        created_at=timezone.now(),
        actor_id=user.pk if user is not None else None,
        actor_label=user.email if user is not None else SYSTEM_LABEL,
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
    head: ChainHead | None
    if lock:
        head = heads.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})[0]
    else:
        head = heads.filter(id=1).first()
    return (head.seq, head.hash) if head else (0, GENESIS)
