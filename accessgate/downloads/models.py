from django.conf import settings
from django.db import models
from django.utils import timezone

from accessgate.access.models import Grant
from accessgate.catalog.models import Model, Release, WeightFile


class DownloadCounter(models.Model):
    """How many URLs were issued for one file under one grant (for the policy's quota)."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="download_counters")
    weight_file = models.ForeignKey(WeightFile, on_delete=models.PROTECT, related_name="download_counters")
    issued = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant", "weight_file"], name="downloads_counter_unique_grant_file")
        ]

    def __str__(self):
        return f"{self.weight_file} × {self.issued} (grant #{self.grant_id})"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReleaseImport(models.Model):
    """One run of `import_release`, with progress the admin can watch."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="imports")
    version = models.CharField(max_length=64)
    source = models.CharField(max_length=1024)
    notes = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model.full_name} {self.version} from {self.source}"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.bytes_total:
            return 0
        return min(99, self.bytes_done * 100 // self.bytes_total)
