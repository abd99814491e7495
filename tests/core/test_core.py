"""The shared machinery below the apps: transitions, the job life cycle, queue-after-commit."""

import pytest

from accessgate.audit.models import AuditExport, VerificationRun
from accessgate.core.errors import InvalidTransition
from accessgate.core.jobs import JobStatus, job_done, job_fail, job_start, job_update
from accessgate.core.tasks import queue_now
from accessgate.core.transitions import Transitions

DOOR = Transitions(
    noun="door",
    allowed={"open": frozenset({"closed"}), "closed": frozenset({"open", "locked"}), "locked": frozenset()},
    verbs={"open": "opened", "closed": "closed", "locked": "locked"},
)


def test_a_transition_outside_the_table_is_refused_with_a_message():
    assert DOOR.can("closed", "locked") and not DOOR.can("open", "locked")
    assert DOOR.sources("open") == ["closed"]
    with pytest.raises(InvalidTransition, match="This door is open; it cannot be locked."):
        DOOR.check("open", "locked")


@pytest.mark.django_db
def test_a_job_goes_queued_running_done_and_never_back(auditor):
    export = AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email)
    job_start(export)
    job_update(export, rows_total=10, rows_done=4)
    export.refresh_from_db()
    assert (export.status, export.percent) == (JobStatus.RUNNING, 40)
    job_done(export, rows_done=10)
    export.refresh_from_db()
    assert export.status == JobStatus.DONE and export.finished_at is not None and export.percent == 100
    with pytest.raises(InvalidTransition, match="This job is done; it cannot be started."):
        job_start(export)


@pytest.mark.django_db
def test_a_failed_job_says_why_in_its_own_field_and_may_run_again(auditor):
    run = VerificationRun.objects.create(requested_by=auditor)
    job_start(run)
    job_fail(run, "the disk is full")
    run.refresh_from_db()
    assert (run.status, run.summary) == (JobStatus.FAILED, "the disk is full")
    job_start(run)
    run.refresh_from_db()
    assert (run.status, run.summary) == (JobStatus.RUNNING, "")


class BrokerDown:
    name = "tests.broker_down"

    def delay(self, *args):
        raise ConnectionError("broker unreachable")


@pytest.mark.django_db
def test_a_task_that_cannot_be_queued_fails_its_job_with_try_again(auditor):
    export = AuditExport.objects.create(requested_by=auditor, requested_by_label=auditor.email)
    assert queue_now(BrokerDown(), export.pk, job=(AuditExport, export.pk), what="the export") is False
    export.refresh_from_db()
    assert export.status == JobStatus.FAILED
    assert export.error == "Could not start the export (broker unreachable); try again."
