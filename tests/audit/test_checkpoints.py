"""Checkpoints: the chain head signed and kept outside the database, and the checks against them."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from accessgate.audit import signing, tasks
from accessgate.audit.actions import AuditAction
from accessgate.audit.checkpoints import (
    MANUAL,
    SCHEDULED,
    checkpoint_create,
    checkpoint_file,
    store_pending,
    stored_checkpoint_files,
)
from accessgate.audit.models import AuditEvent, Checkpoint
from accessgate.audit.services import record
from accessgate.core.storage import get_storage
from tests.support.audit import append, rewrite_history, run_verify, tamper
from tests.support.exports import SCRIPT, export_files, make_export

pytestmark = pytest.mark.django_db(transaction=True)


def sign_now(reason=MANUAL, actor=None):
    return checkpoint_create(actor=actor, reason=reason)


def cut_tail(keep_seq: int):
    """Delete every event after `keep_seq` and move the head back: the chain verifies whole."""
    tamper("DELETE FROM audit_auditevent WHERE seq > %s", [keep_seq])
    head = AuditEvent.objects.get(seq=keep_seq)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [head.seq, head.hash])


def test_checkpoint_signs_the_head_including_its_own_event_and_is_stored():
    append(3)
    checkpoint, created = sign_now()
    assert created
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.seq, event.action, event.details) == (
        4,
        "audit.checkpoint.created",
        {"reason": "manual", "previous_seq": None},
    )
    assert (checkpoint.seq, checkpoint.hash) == (event.seq, event.hash)
    assert checkpoint.document["seq"] == 4 and checkpoint.document["key_id"] == signing.key_id()
    assert signing.verify(checkpoint.document, checkpoint.signature)
    checkpoint.refresh_from_db()
    assert checkpoint.stored_at is not None
    assert checkpoint.storage_key == f"audit-checkpoints/000000000004-{event.hash[:16]}.json"
    stored = dict(stored_checkpoint_files())
    assert json.loads(stored[f"storage:{checkpoint.storage_key}"]) == checkpoint.signed


def test_checkpoints_are_idempotent_while_nothing_changes():
    append(2)
    first, _ = sign_now(SCHEDULED)
    again, created = sign_now(SCHEDULED)
    assert (again.pk, created) == (first.pk, False)
    assert tasks.checkpoint() == "unchanged"
    assert AuditEvent.objects.filter(action="audit.checkpoint.created").count() == 1
    append(1)
    assert tasks.checkpoint() == f"checkpoint #{first.seq + 2}"
    second = Checkpoint.objects.order_by("-seq").first()
    assert second.seq == first.seq + 2
    assert AuditEvent.objects.get(seq=second.seq).details == {"reason": "scheduled", "previous_seq": first.seq}
    assert tasks.checkpoint() == "unchanged"


def test_every_export_signs_a_checkpoint(auditor, django_capture_on_commit_callbacks):
    append(3)
    with django_capture_on_commit_callbacks(execute=True):
        pass
    export = make_export(auditor, capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.reason == "export"
    completed = AuditEvent.objects.get(action="audit.export.completed")
    assert checkpoint.seq == completed.seq + 1  # covers the export's completion


def test_storage_down_keeps_the_checkpoint_for_the_next_try(monkeypatch):
    append(1)
    from accessgate.audit import checkpoints

    def broken(key, body):
        raise OSError("storage is down")

    monkeypatch.setattr(checkpoints, "_put", broken)
    checkpoint, _ = sign_now()
    checkpoint.refresh_from_db()
    assert checkpoint.stored_at is None and "storage is down" in checkpoint.store_error
    monkeypatch.undo()
    assert store_pending() == 1
    checkpoint.refresh_from_db()
    assert checkpoint.stored_at is not None and checkpoint.store_error == ""


def test_checkpoints_are_emailed_to_auditors_when_configured(settings):
    settings.ACCESSGATE_AUDIT_CHECKPOINT_EMAILS = ["auditor@outside.example"]
    append(1)
    checkpoint, _ = sign_now()
    [message] = mail.outbox
    assert message.to == ["auditor@outside.example"]
    name, body, mimetype = message.attachments[0]
    assert mimetype == "application/json" and json.loads(body) == checkpoint.signed


# --- published ------------------------------------------------------------------------------


def test_latest_and_list_are_public_and_cacheable(client):
    assert client.get(reverse("audit:checkpoint_latest")).status_code == 404
    append(1)
    first, _ = sign_now()
    append(1)
    second, _ = sign_now()
    response = client.get(reverse("audit:checkpoint_latest"))
    assert response.status_code == 200
    assert response.json() == second.signed
    assert response["Cache-Control"] == "public, max-age=60"
    assert client.get(reverse("audit:checkpoint_latest"), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    listing = client.get(reverse("audit:checkpoints")).json()
    assert listing["checkpoints"] == [second.signed, first.signed] and listing["next"] is None


def test_list_is_paginated(client, monkeypatch):
    from accessgate.audit import views

    monkeypatch.setattr(views, "CHECKPOINT_PAGE", 2)
    made = []
    for _ in range(3):
        append(1)
        made.append(sign_now()[0])
    page = client.get(reverse("audit:checkpoints")).json()
    assert [c["checkpoint"]["seq"] for c in page["checkpoints"]] == [made[2].seq, made[1].seq]
    assert page["next"] == f"/audit/checkpoints/?before={made[1].seq}"
    older = client.get(page["next"]).json()
    assert [c["checkpoint"]["seq"] for c in older["checkpoints"]] == [made[0].seq] and older["next"] is None


def test_staff_sign_on_demand_audited(client, auditor, researcher):
    client.force_login(researcher)
    assert client.post(reverse("audit:checkpoint_now")).status_code == 403
    assert not Checkpoint.objects.exists()
    client.force_login(auditor)
    response = client.post(reverse("audit:checkpoint_now"))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="audit.checkpoint.created")
    assert event.actor_id == auditor.pk and event.details["reason"] == "manual"
    assert Checkpoint.objects.get().seq == event.seq


def test_management_command_signs_on_demand():
    append(2)
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    checkpoint = Checkpoint.objects.get()
    assert out.getvalue().startswith(
        f"Checkpoint #{checkpoint.seq} {checkpoint.hash} (new); stored at audit-checkpoints/"
    )
    out = StringIO()
    call_command("audit_checkpoint", stdout=out)
    assert "(unchanged since the last one)" in out.getvalue()


# --- verify_audit against checkpoints ---------------------------------------------------------


def test_verify_passes_against_stored_and_given_checkpoints(tmp_path):
    append(3)
    checkpoint, _ = sign_now()
    saved = tmp_path / "cp.json"
    saved.write_bytes(checkpoint_file(checkpoint))
    append(2)
    code, output = run_verify("--checkpoint", str(saved))
    assert code == 0, output
    assert "All 2 checkpoints match the chain." in output


def test_rewritten_history_fails_naming_the_checkpoint(tmp_path):
    append(5)
    checkpoint, _ = sign_now()
    checkpoint.refresh_from_db()
    saved = tmp_path / "auditor-copy.json"
    saved.write_bytes(checkpoint_file(checkpoint))
    append(3)
    rewrite_history(2, actor_label="mallory")
    code, output = run_verify()  # the chain alone now looks whole…
    assert "The chain is whole" in output
    assert code == 1  # …but the stored checkpoint remembers
    assert f"checkpoint storage:{checkpoint.storage_key} (#{checkpoint.seq}): does not match" in output
    code, output = run_verify("--no-stored-checkpoints", "--checkpoint", str(saved))
    assert code == 1 and f"checkpoint {saved} (#{checkpoint.seq}): does not match" in output


def test_cut_tail_fails_naming_the_checkpoint():
    append(5)
    checkpoint, _ = sign_now()
    checkpoint.refresh_from_db()
    cut_tail(3)
    code, output = run_verify()
    assert "The chain is whole: 3 events" in output
    assert code == 1
    assert (
        f"checkpoint storage:{checkpoint.storage_key} (#{checkpoint.seq}): the chain is shorter than this "
        "checkpoint: it ends at #3" in output
    )


def test_forged_or_foreign_checkpoint_fails(tmp_path):
    append(2)
    checkpoint, _ = sign_now()
    forged = dict(checkpoint.signed)
    forged["checkpoint"] = {**checkpoint.document, "seq": 1}
    bad = tmp_path / "forged.json"
    bad.write_text(json.dumps(forged))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{}")
    code, output = run_verify("--checkpoint", str(bad), str(garbage))
    assert code == 1
    assert f"checkpoint {bad} (#1): bad signature" in output
    assert f"checkpoint {garbage}: unreadable" in output


def test_standalone_script_checks_an_export_against_checkpoints(auditor, tmp_path, django_capture_on_commit_callbacks):
    append(4)
    early, _ = sign_now()
    early_file = tmp_path / "early.json"
    early_file.write_bytes(checkpoint_file(early))
    export = make_export(auditor, capture=django_capture_on_commit_callbacks)
    paths = export_files(export, tmp_path)
    key_path = paths[2]

    def script(*args):
        result = subprocess.run(
            [sys.executable, str(SCRIPT), *map(str, args), "--public-key", str(key_path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.returncode, result.stdout

    code, output = script(*paths[:2], "--checkpoint", early_file)
    assert code == 0, output
    assert f"checkpoint {early_file} (#{early.seq}) matches" in output
    code, output = script("--checkpoint", early_file)
    assert code == 0 and f"OK: checkpoint {early_file}: #{early.seq}" in output
    # A checkpoint whose hash the export does not hold: the export's history differs.
    forged = tmp_path / "other.json"
    document = {**early.document, "hash": "f" * 64}
    forged.write_text(json.dumps({"checkpoint": document, "signature": signing.sign(document)}))
    code, output = script(*paths[:2], "--checkpoint", forged)
    assert code == 1 and f"FAILED: checkpoint {forged} does not match: event #{early.seq}" in output
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({"checkpoint": document, "signature": early.signature}))
    code, output = script("--checkpoint", tampered)
    assert code == 1 and "bad signature" in output


@pytest.mark.django_db(transaction=True)
def test_checkpoint_to_s3_is_written(settings, s3rver):  # noqa: F811 (the fixture)
    """Object Lock headers are sent when configured; s3rver accepts the PUT (it does not
    enforce retention: that needs a bucket with Object Lock on real S3 or MinIO)."""
    settings.ACCESSGATE_STORAGE_BACKEND = "s3"
    settings.ACCESSGATE_S3 = s3rver
    settings.ACCESSGATE_AUDIT_CHECKPOINT_LOCK_DAYS = 30
    sent = []
    storage = get_storage()
    storage.client.meta.events.register("before-send.s3.PutObject", lambda request, **kw: sent.append(request))
    try:
        append(1)
        checkpoint, _ = sign_now()
    finally:
        storage.client.meta.events.unregister("before-send.s3.PutObject")
    checkpoint.refresh_from_db()
    assert checkpoint.stored_at is not None, checkpoint.store_error
    headers = sent[-1].headers
    assert headers["x-amz-object-lock-mode"] == b"COMPLIANCE" or headers["x-amz-object-lock-mode"] == "COMPLIANCE"
    assert "x-amz-object-lock-retain-until-date" in headers and "Content-MD5" in headers
    body = storage.open(checkpoint.storage_key).read()
    assert json.loads(body) == checkpoint.signed
    code, output = run_verify()
    assert code == 0 and "All 1 checkpoints match the chain." in output


def test_record_outside_checkpoint_is_unaffected():
    with transaction.atomic():
        record(actor=None, action=AuditAction.GRANT_EXPIRED)
    assert not Checkpoint.objects.exists()
