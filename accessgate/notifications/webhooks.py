"""Outgoing webhooks: which audit events leave, what they carry, and how they are sent.

`on_event_recorded` is connected to `audit.signals.event_recorded` (see `apps.py`). For a
webhook-worthy action it writes one `WebhookDelivery` per matching active endpoint in the
transaction of the change, and queues the sends with `transaction.on_commit`: a rolled-back
change sends nothing, and a down broker leaves the rows pending for the sweeper.
"""

import json

from django.apps import apps

from accessgate.audit.actions import AuditAction
from accessgate.core.tasks import queue_after_commit, queue_now

from .models import WebhookDelivery, WebhookEndpoint

DELIVER_WEBHOOK = "accessgate.notifications.tasks.deliver_webhook"

# What an endpoint can subscribe to, in the order the admin form lists them.
WEBHOOK_EVENTS = [
    AuditAction.ACCESS_REQUEST_SUBMITTED,
    AuditAction.ACCESS_REQUEST_RESUBMITTED,
    AuditAction.ACCESS_REQUEST_APPROVED,
    AuditAction.ACCESS_REQUEST_REJECTED,
    AuditAction.ACCESS_REQUEST_CHANGES_REQUESTED,
    AuditAction.ACCESS_REQUEST_WITHDRAWN,
    AuditAction.GRANT_CREATED,
    AuditAction.GRANT_REVOKED,
    AuditAction.GRANT_EXPIRED,
    AuditAction.GRANT_SUSPENDED,
    AuditAction.GRANT_RESTORED,
    AuditAction.ACCESS_REQUEST_APPROVAL_RECORDED,
    AuditAction.ACCESS_REQUEST_APPEALED,
    AuditAction.ACCESS_APPEAL_GRANTED,
    AuditAction.ACCESS_APPEAL_DENIED,
    AuditAction.GRANT_ACTIVATED,
    AuditAction.GRANT_REINSTATED,
]
_EVENT_VALUES = frozenset(str(action.value) for action in WEBHOOK_EVENTS)


def on_event_recorded(sender, event, **kwargs) -> None:
    if event.action not in _EVENT_VALUES:
        return  # the common case (downloads, log-ins): no query at all
    model_name = str(event.details.get("model", ""))
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).select_related("model")
        if event.action in endpoint.events
        and (endpoint.model is None or endpoint.model.full_name.lower() == model_name.lower())
    ]
    if not endpoints:
        return
    body = payload_json(event)
    for endpoint in endpoints:
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, event_type=event.action, body=body)
        queue_after_commit(DELIVER_WEBHOOK, delivery.pk, what=f"webhook delivery {delivery.pk}")


def queue_webhook(delivery_id: int) -> None:
    """Queue one delivery now; with the broker down the row stays pending for the sweeper."""
    queue_now(DELIVER_WEBHOOK, delivery_id, what=f"webhook delivery {delivery_id}")


def payload(event) -> dict:
    """The JSON a receiver gets. Built from named fields only: no secrets, no signed URLs."""
    details = event.details
    target = _target(event)
    user = getattr(target, "user", None)  # the applicant or grant holder; `username` is their handle
    data = {
        # The order events were written in (the same transaction's events in order). Their
        # `seq` in the hash chain is assigned moments later, by the audit chainer.
        "audit_event_id": event.pk,
        "actor": event.actor_label,
        "request_id": None,
        "grant_id": None,
        "user": {"email": user.email, "handle": getattr(user, "username", None)} if user is not None else None,
    }
    if event.target_type == "access.accessrequest":
        data["request_id"] = int(event.target_id)
        data["grant_id"] = details.get("grant_id")
    elif event.target_type == "access.grant":
        data["grant_id"] = int(event.target_id)
        data["request_id"] = getattr(target, "request_id", None) or details.get("request_id")
    reason = details.get("reason") or details.get("message")
    if reason:
        data["reason"] = reason
    for key in ("expires_at", "automatic"):
        if key in details:
            data[key] = details[key]
    return {
        "id": f"evt_{event.pk}",
        "type": event.action,
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "model": details.get("model"),
        "data": data,
    }


def payload_json(event) -> str:
    return json.dumps(payload(event), sort_keys=True, separators=(",", ":"))


def _target(event):
    # The audit event names its target by label ("access.grant"), so this lower app reads
    # the request or grant without importing the app that owns it.
    if not event.target_type or not event.target_id:
        return None
    try:
        target_model = apps.get_model(event.target_type)
    except LookupError:
        return None
    return target_model.objects.select_related("user").filter(pk=event.target_id).first()
