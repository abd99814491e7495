"""Background jobs the portal runs through Celery (release imports, chain checks, audit
exports): one status vocabulary and one progress rule."""

from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BackgroundJob(models.Model):
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    # (done, total) field names that measure progress; set by each job.
    progress_fields: tuple[str, str] = ("", "")

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
