"""The audit trail's hook for side effects in the apps above it.

`event_recorded` is sent by `audit.services.record()` with `event=<AuditEvent>`, inside the
transaction that writes the event and the change it records. A receiver that writes rows
(the webhook outbox) therefore commits or rolls back with the change; anything that leaves
the process must wait for `transaction.on_commit`. Receivers must be quick and must not
call `record()` for the same event. Audit imports nothing from its receivers: they connect
themselves in their app's `ready()`.
"""

from django.dispatch import Signal

event_recorded = Signal()
