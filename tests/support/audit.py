"""Shared test helpers (plain functions and values, not fixtures)."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.db import connection, transaction

from accessgate.audit import signing
from accessgate.audit.actions import AuditAction
from accessgate.audit.chain import chain_hash, event_payload, export_line
from accessgate.audit.chainer import chain_all
from accessgate.audit.exports import audit_export_request
from accessgate.audit.models import AuditEvent
from accessgate.audit.services import record
from accessgate.core.storage import get_storage

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


SCRIPT = ROOT / "scripts" / "verify_audit_export.py"


def export_files(export, tmp_path):
    """Fetch the file and manifest the way an auditor does; return their paths and the key."""
    export.refresh_from_db()
    storage = get_storage()
    data = storage.open(export.storage_key).read()
    file_path = tmp_path / export.file_name
    file_path.write_bytes(data)
    manifest_path = tmp_path / f"{export.file_name}.manifest.json"
    manifest_path.write_text(json.dumps({"manifest": export.manifest, "signature": export.signature}))
    key_path = tmp_path / "public-key.pem"
    key_path.write_text(signing.public_key_pem())
    return file_path, manifest_path, key_path


def run_script(*paths):
    file_path, manifest_path, key_path = paths
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(file_path), str(manifest_path), "--public-key", str(key_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    return result.returncode, result.stdout


def make_export(auditor, filters=None, format="jsonl", capture=None):
    with capture(execute=True):
        return audit_export_request(actor=auditor, filters=filters or {}, format=format)
