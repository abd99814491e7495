"""The audit chain as tests drive it: append events, run verify_audit, tamper with the table
as a database owner could."""

from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction

from accessgate.audit.actions import AuditAction
from accessgate.audit.chain import chain_hash, event_payload, export_line
from accessgate.audit.chainer import chain_all
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record

ROOT = Path(__file__).resolve().parents[2]


def append(n, **details):
    """Record n events in one transaction, then link them as the chainer does after commit."""
    with transaction.atomic():
        events = [record(actor=None, action=AuditAction.GRANT_EXPIRED, n=i, **details) for i in range(n)]
    chain_all()
    for event in events:
        event.refresh_from_db()
    return events


def tamper(sql, params=()):
    """Change the table behind the app's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def run_verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue() + err.getvalue()


def rewrite_history(from_seq: int, **changes):
    """What a database owner can do: triggers off, change an event, recompute every later
    prev_hash and hash, and move the chain head, so the chain itself verifies whole."""
    events = list(AuditEvent.objects.filter(seq__gte=from_seq).order_by("seq"))
    prev = AuditEvent.objects.get(seq=from_seq - 1).hash if from_seq > 1 else "0" * 64
    statements = []
    for index, event in enumerate(events):
        if index == 0:
            for name, value in changes.items():
                setattr(event, name, value)
        event.prev_hash = prev
        event.hash = chain_hash(prev, event_payload(event))
        line = export_line(event_payload(event), event.prev_hash, event.hash)  # the stored line too
        statements.append(
            (
                "UPDATE audit_auditevent SET actor_label = %s, prev_hash = %s, hash = %s, line = %s WHERE seq = %s",
                [event.actor_label, event.prev_hash, event.hash, line, event.seq],
            )
        )
        prev = event.hash
    # hash is unique: park the old values first so the new ones never collide.
    tamper("UPDATE audit_auditevent SET hash = 'old-' || seq WHERE seq >= %s", [from_seq])
    for sql, params in statements:
        tamper(sql, params)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET hash = %s WHERE id = 1", [prev])
