import base64
import hashlib
import json
from datetime import UTC, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accessgate.audit import signing
from accessgate.audit.actions import AuditAction
from accessgate.audit.exports import daily_export_due
from accessgate.audit.models import AuditEvent, AuditExport
from accessgate.audit.selectors import filter_events
from accessgate.audit.services import record
from accessgate.audit.tasks import daily_export
from accessgate.core.jobs import JobStatus
from accessgate.core.storage import get_storage
from tests.support.exports import export_files, make_export, run_script, trail_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("format", ["jsonl", "csv"])
def test_full_export_verifies_outside_the_portal(trail, auditor, tmp_path, format, django_capture_on_commit_callbacks):
    export = make_export(auditor, format=format, capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE and export.percent == 100
    assert export.is_full
    manifest = export.manifest
    # The export fixed its end when it started; events recorded since (its own) are not in it.
    assert (
        manifest["row_count"]
        == manifest["last_seq"]
        == AuditEvent.objects.filter(seq__lte=manifest["last_seq"]).count()
    )
    assert manifest["first_seq"] == 1 and manifest["first_prev_hash"] == "0" * 64
    code, out = run_script(*export_files(export, tmp_path))
    assert code == 0, out
    assert "full chain links" in out


def test_filtered_export_row_count_matches_the_filters(trail, auditor, tmp_path, django_capture_on_commit_callbacks):
    filters = {"action": "download.", "ip": "198.51.100.7"}
    expected = filter_events(filters).count()
    export = make_export(auditor, filters=filters, capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert expected > 0 and export.manifest["row_count"] == export.rows_done == expected
    assert not export.is_full
    code, out = run_script(*export_files(export, tmp_path))
    assert code == 0, out
    assert "filtered export" in out


class TestTamperingIsCaught:
    @pytest.fixture
    def files(self, trail, auditor, tmp_path, django_capture_on_commit_callbacks):
        export = make_export(auditor, capture=django_capture_on_commit_callbacks)
        return export_files(export, tmp_path)

    def test_one_flipped_byte(self, files):
        data = bytearray(files[0].read_bytes())
        data[200] ^= 0x01
        files[0].write_bytes(bytes(data))
        code, out = run_script(*files)
        assert code == 1 and "sha256" in out

    def test_one_changed_character(self, files):
        text = files[0].read_text()
        files[0].write_text(text.replace("user1@example.org", "user9@example.org", 1))
        assert run_script(*files)[0] == 1

    def test_a_dropped_line(self, files):
        lines = files[0].read_text().splitlines(keepends=True)
        files[0].write_text("".join(lines[:5] + lines[6:]))
        assert run_script(*files)[0] == 1

    def test_a_dropped_line_even_with_a_manifest_re_signed_to_match(self, files):
        """With the signing key stolen, the chain itself still shows the gap."""
        lines = files[0].read_text().splitlines(keepends=True)
        files[0].write_text("".join(lines[:5] + lines[6:]))
        document = json.loads(files[1].read_text())
        manifest = document["manifest"]
        manifest["sha256"] = hashlib.sha256(files[0].read_bytes()).hexdigest()
        manifest["row_count"] -= 1
        files[1].write_text(json.dumps({"manifest": manifest, "signature": signing.sign(manifest)}))
        code, out = run_script(*files)
        assert code == 1 and "missing" in out

    def test_an_edited_manifest(self, files):
        document = json.loads(files[1].read_text())
        document["manifest"]["row_count"] += 1
        files[1].write_text(json.dumps(document))
        code, out = run_script(*files)
        assert code == 1 and "bad signature" in out

    def test_the_wrong_public_key(self, files):
        other = Ed25519PrivateKey.generate().public_key()
        files[2].write_bytes(
            other.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        code, out = run_script(*files)
        assert code == 1 and "bad signature" in out

    def test_a_garbled_signature(self, files):
        document = json.loads(files[1].read_text())
        document["signature"] = base64.b64encode(b"x" * 64).decode()
        files[1].write_text(json.dumps(document))
        assert run_script(*files)[0] == 1


def test_export_events_are_audited(trail, auditor, client, django_capture_on_commit_callbacks):
    export = make_export(auditor, capture=django_capture_on_commit_callbacks)
    client.force_login(auditor)
    response = client.get(reverse("audit:export_download", args=[export.pk]))
    assert response.status_code == 302
    body = b"".join(client.get(response["Location"]).streaming_content)
    export.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == export.manifest["sha256"]
    manifest = client.get(reverse("audit:export_manifest", args=[export.pk])).json()
    assert manifest == {"manifest": export.manifest, "signature": export.signature}
    actions = list(
        AuditEvent.objects.filter(target_type="audit.auditexport", target_id=str(export.pk))
        .order_by("id")  # insertion order: the last two are not chained yet
        .values_list("action", "details__part")
    )
    assert actions == [
        ("audit.export.requested", None),
        ("audit.export.completed", None),
        ("audit.export.downloaded", "file"),
        ("audit.export.downloaded", "manifest"),
    ]


def test_export_http_flow_and_progress(trail, auditor, client, django_capture_on_commit_callbacks):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audit:exports"), {"action": "account.", "format": "csv"})
    export = AuditExport.objects.get()
    assert response["Location"] == reverse("audit:export", args=[export.pk])
    page = client.get(response["Location"]).content.decode()
    assert "100%" in page and "Download the signed manifest" in page
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="export-status"') and "hx-trigger" not in fragment


def test_bad_export_input_changes_nothing(auditor, client):
    client.force_login(auditor)
    response = client.post(reverse("audit:exports"), {"since": "2026-02-01", "until": "2026-01-01", "format": "csv"})
    assert "The start day is after the end day." in response.content.decode()
    response = client.post(reverse("audit:exports"), {"ip": "not-an-ip", "format": "xml"})
    assert response.status_code == 200
    assert not AuditExport.objects.exists()


def test_daily_export_once_per_day(trail, settings):
    today = timezone.now().astimezone(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    settings.ACCESSGATE_AUDIT_DAILY_EXPORT = True
    settings.ACCESSGATE_AUDIT_DAILY_EXPORT_PREFIX = "siem/"

    assert daily_export().startswith("queued export")
    assert daily_export() == "already exported"
    export = AuditExport.objects.get(scheduled_day=today - timedelta(days=1))
    assert export.status == JobStatus.DONE
    assert export.filters == {"since": yesterday, "until": yesterday}
    assert export.storage_key == f"siem/{export.file_name}" and yesterday in export.file_name
    assert get_storage().exists(f"siem/{export.file_name}.manifest.json")
    assert daily_export_due(today=today) is None
    settings.ACCESSGATE_AUDIT_DAILY_EXPORT = False
    assert daily_export() == "disabled"


def test_exports_cover_linked_events_only(trail, auditor, settings, django_capture_on_commit_callbacks):

    settings.ACCESSGATE_AUDIT_CHAIN_ON_COMMIT = False  # a chainer that has not caught up yet
    with transaction.atomic():
        waiting = record(actor=None, action=AuditAction.GRANT_EXPIRED)
    export = make_export(auditor, capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE
    data = get_storage().open(export.storage_key).read().decode()
    assert export.manifest["row_count"] == export.manifest["last_seq"] == data.count("\n")
    assert f'"n":{29}' in data and '"action":"grant.expired"' not in data  # the waiting one is not in it
    # The checkpoint signed after the export linked it, after the exported range.
    assert AuditEvent.objects.get(pk=waiting.pk).seq > export.manifest["last_seq"]


def test_progress_is_reported_without_disturbing_the_stream(
    trail, auditor, monkeypatch, django_capture_on_commit_callbacks
):
    from accessgate.audit import exports

    monkeypatch.setattr(exports, "BATCH", 1)  # progress after every row on the Python path
    export = make_export(auditor, capture=django_capture_on_commit_callbacks)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE
    assert export.rows_done == export.rows_total == export.manifest["row_count"] >= 30
