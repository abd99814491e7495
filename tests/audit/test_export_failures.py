import pytest
from django.urls import reverse

from accessgate.audit.exports import audit_export_request
from accessgate.audit.models import AuditEvent, AuditExport, VerificationRun
from accessgate.audit.verification import audit_verification_request
from accessgate.core.jobs import JobStatus
from tests.support.celery import broker

pytestmark = pytest.mark.django_db


def test_downloading_an_unfinished_export_is_refused(client, auditor):
    export = AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email)
    client.force_login(auditor)
    response = client.get(reverse("audit:export_download", args=[export.pk]))
    assert response.status_code == 409 and "not finished" in response.content.decode()
    assert not AuditEvent.objects.filter(action="audit.export.downloaded").exists()


def test_a_failing_store_marks_the_export_failed_and_audits_it(
    auditor, monkeypatch, django_capture_on_commit_callbacks
):
    class BrokenStorage:
        def put_file(self, key, source):
            raise OSError("disk full")

    monkeypatch.setattr("accessgate.audit.exports.get_storage", lambda: BrokenStorage())
    with django_capture_on_commit_callbacks(execute=True):  # the task fails; the request does not
        audit_export_request(actor=auditor, filters={})
    export = AuditExport.objects.get()
    assert export.status == JobStatus.FAILED and "disk full" in export.error
    assert AuditEvent.objects.filter(action="audit.export.failed", target_id=str(export.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_down_broker_says_so_on_the_job(auditor):
    with broker("redis://127.0.0.1:1/0"):
        export = audit_export_request(actor=auditor, filters={})
        run = audit_verification_request(actor=auditor)
    export.refresh_from_db()
    run.refresh_from_db()
    assert export.status == JobStatus.FAILED and "try again" in export.error
    assert run.status == JobStatus.FAILED and "try again" in run.summary
    assert AuditEvent.objects.filter(action="audit.export.requested").count() == 1
    assert VerificationRun.objects.count() == 1
