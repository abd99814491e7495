"""Background jobs the portal runs through Celery (release imports, chain checks, audit
exports): one status vocabulary, one life cycle (queued → running with progress → done |
failed) and one progress rule."""

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .transitions import Transitions


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


JOB_TRANSITIONS = Transitions(
    noun=_("job"),
    allowed={
        JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.FAILED}),
        JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.FAILED}),
        # A failed job may be run again; a finished one may not.
        JobStatus.FAILED: frozenset({JobStatus.RUNNING}),
        JobStatus.DONE: frozenset(),
    },
    verbs={
        JobStatus.RUNNING: _("started"),
        JobStatus.DONE: _("finished"),
        JobStatus.FAILED: _("marked failed"),
    },
)


class BackgroundJob(models.Model):
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    # (done, total) field names that measure progress; set by each job.
    progress_fields: tuple[str, str] = ("", "")
    # The text field that says why the job failed.
    error_field: str = "error"

    class Meta:
        abstract = True

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        done, total = (getattr(self, name) for name in self.progress_fields)
        return min(99, done * 100 // total) if total else 0


# --- the life cycle ----------------------------------------------------------------------
# Job rows are bookkeeping of work in progress: each step is committed at once (a plain
# UPDATE, outside any transaction of the caller's), so the admin and the status pages see it.


def job_update(job: BackgroundJob, **changes: Any) -> None:
    """Write progress (or any bookkeeping field) on the row and on the object."""
    type(job)._default_manager.filter(pk=job.pk).update(**changes)
    for name, value in changes.items():
        setattr(job, name, value)


def _move(job: BackgroundJob, to: JobStatus, **changes: Any) -> None:
    JOB_TRANSITIONS.move(job, to)
    job_update(job, status=to, **changes)


def job_start(job: BackgroundJob, **changes: Any) -> None:
    """queued (or failed, for a retry) → running; clears the last error."""
    _move(job, JobStatus.RUNNING, **{job.error_field: ""}, **changes)


def job_done(job: BackgroundJob, **changes: Any) -> None:
    _move(job, JobStatus.DONE, finished_at=timezone.now(), **changes)


def job_fail(job: BackgroundJob, message: str) -> None:
    _move(job, JobStatus.FAILED, finished_at=timezone.now(), **{job.error_field: message[:4000]})


def job_fail_if_queued(model: type[BackgroundJob], pk: int, message: str) -> bool:
    """Mark a job that never started as failed (its task could not be queued)."""
    return bool(
        model._default_manager.filter(pk=pk, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), **{model.error_field: message[:4000]}
        )
    )
