"""The audit trail's hook for side effects in the apps above it.

`event_recorded` is sent by `audit.services.record()` with `event=<AuditEvent>`, inside the
transaction that writes the event and the change it records. A receiver that writes rows
(the webhook outbox) therefore commits or rolls back with the change; anything that leaves
the process must wait for `transaction.on_commit`. Receivers must be quick and must not
call `record()` for the same event. Audit imports nothing from its receivers: they connect
themselves in their app's `ready()`.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.dispatch import Signal

event_recorded = Signal()

# dispatch_uid -> the actions that receiver acts on (`connect_for`); it returns at once for others.
_ACTIONS: dict[str, frozenset[str]] = {}


def connect_for(receiver: Callable[..., Any], *, actions: Iterable[str], dispatch_uid: str) -> None:
    """Connect a receiver that acts only on `actions`, so a writer can tell when no receiver
    needs the event's transaction (`heard`)."""
    _ACTIONS[dispatch_uid] = frozenset(str(action) for action in actions)
    event_recorded.connect(receiver, dispatch_uid=dispatch_uid)


def heard(action: str) -> bool:
    """Whether some connected receiver may act on `action`. A receiver connected without
    declaring its actions (plain `connect`) may act on any, so it is always heard."""
    action = str(action)
    for lookup_key, *_ in event_recorded.receivers:
        uid = lookup_key[0]
        if not isinstance(uid, str) or uid not in _ACTIONS or action in _ACTIONS[uid]:
            return True
    return False
