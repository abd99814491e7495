"""Auditors through /api/v1/: events by seq cursor, verification runs, exports."""

import pytest

from accessgate.access import services
from accessgate.audit.models import AuditEvent, AuditExport, VerificationRun
from tests.support.api import error_of
from tests.support.applications import application

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(researcher, model):
    from accessgate.audit.chainer import chain_all

    services.access_request_submit(actor=researcher, **application(model))
    chain_all()  # the on-commit step, had the test's transaction committed


def test_events_newest_first_with_filters(as_auditor, trail, model):
    body = as_auditor.get("/api/v1/audit/events/").json()
    seqs = [e["seq"] for e in body["results"]]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == AuditEvent.objects.latest("seq").seq
    submitted = as_auditor.get("/api/v1/audit/events/", {"action": "access.request."}).json()["results"]
    assert [e["action"] for e in submitted] == ["access.request.submitted"]
    assert submitted[0]["details"]["model"] == model.full_name
    by_model = as_auditor.get("/api/v1/audit/events/", {"model": model.full_name}).json()["results"]
    assert {e["action"] for e in by_model} >= {"access.request.submitted"}
    assert as_auditor.get("/api/v1/audit/events/", {"actor": "nobody@"}).json()["results"] == []


def test_events_cursor_and_after_seq(as_auditor, trail):
    total = AuditEvent.objects.count()
    assert total >= 3
    first = as_auditor.get("/api/v1/audit/events/", {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = as_auditor.get(first["next"]).json()
    assert second["results"][0]["seq"] == first["results"][1]["seq"] - 1
    forward = as_auditor.get("/api/v1/audit/events/", {"after_seq": 1}).json()["results"]
    assert [e["seq"] for e in forward] == list(range(2, total + 1))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-02-01", "until": "2026-01-01"}, "non_field_errors"),
        ({"since": "yesterday"}, "since"),
        ({"ip": "not-an-ip"}, "ip"),
        ({"after_seq": "-1"}, "after_seq"),
    ],
)
def test_event_filters_refuse_bad_input(as_auditor, params, field):
    error = error_of(as_auditor.get("/api/v1/audit/events/", params), 400, "invalid")
    assert field in error["fields"], error


def test_verification_run(as_auditor, auditor, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_auditor.post("/api/v1/audit/verifications/")
    assert response.status_code == 202
    run = VerificationRun.objects.get(pk=response.json()["id"])
    assert run.requested_by == auditor
    body = as_auditor.get(f"/api/v1/audit/verifications/{run.pk}/").json()
    assert body["status"] == "done" and body["ok"] is True  # Celery runs eagerly in tests
    assert events() == ["audit.chain.verified"]
    error_of(as_auditor.get("/api/v1/audit/verifications/999999/"), 404, "not_found")


def test_export_create_status_file_and_manifest(as_auditor, auditor, trail, events, django_capture_on_commit_callbacks):
    start = len(events())
    with django_capture_on_commit_callbacks(execute=True):
        response = as_auditor.post("/api/v1/audit/exports/", {"action": "access.", "format": "csv"}, format="json")
    assert response.status_code == 202, response.content
    export_id = response.json()["id"]
    assert response.json()["filters"] == {"action": "access."}
    # every export also signs a checkpoint of the head
    assert events()[start:] == ["audit.export.requested", "audit.export.completed", "audit.checkpoint.created"]
    body = as_auditor.get(f"/api/v1/audit/exports/{export_id}/").json()
    assert body["status"] == "done" and body["format"] == "csv" and len(body["sha256"]) == 64
    assert [e["id"] for e in as_auditor.get("/api/v1/audit/exports/").json()["results"]] == [export_id]
    start = len(events())
    file_response = as_auditor.get(f"/api/v1/audit/exports/{export_id}/file/")
    assert file_response.status_code == 302 and file_response["Location"].startswith("http://testserver/dl/")
    manifest = as_auditor.get(f"/api/v1/audit/exports/{export_id}/manifest/").json()
    assert manifest["manifest"]["sha256"] == body["sha256"] and manifest["signature"]
    assert events()[start:] == ["audit.export.downloaded", "audit.export.downloaded"]


def test_export_bad_input_changes_nothing(as_auditor, events):
    error = error_of(as_auditor.post("/api/v1/audit/exports/", {"format": "xml"}, format="json"), 400)
    assert "format" in error["fields"]
    error = error_of(
        as_auditor.post("/api/v1/audit/exports/", {"since": "2026-02-01", "until": "2026-01-01"}, format="json"), 400
    )
    assert "non_field_errors" in error["fields"]
    assert not AuditExport.objects.exists() and events() == []


def test_unfinished_export_cannot_be_downloaded(as_auditor, auditor, events):
    export = AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email)
    error_of(as_auditor.get(f"/api/v1/audit/exports/{export.pk}/file/"), 409, "invalid_transition")
    error_of(as_auditor.get(f"/api/v1/audit/exports/{export.pk}/manifest/"), 409, "invalid_transition")
    assert events() == []
