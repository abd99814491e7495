from django.conf import settings
from django.db import models

from accessgate.access.models import Grant
from accessgate.catalog.models import Model, Release, WeightFile
from accessgate.core.jobs import BackgroundJob


class DownloadCounter(models.Model):
    """How many downloads of one file one grant has used (for the policy's quota).

    A download counts when a URL is issued and no earlier counted URL for the same grant and
    file is still valid; `counted_until` is the expiry of the last counted URL (the URL itself
    is never stored). Re-issuing before then (a manifest and a retry) costs nothing more.
    """

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="download_counters")
    weight_file = models.ForeignKey(WeightFile, on_delete=models.PROTECT, related_name="download_counters")
    issued = models.PositiveIntegerField("downloads counted", default=0)
    counted_until = models.DateTimeField("last counted URL valid until", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant", "weight_file"], name="downloads_counter_unique_grant_file")
        ]

    def __str__(self):
        return f"{self.weight_file} × {self.issued} (grant #{self.grant_id})"


class ReleaseImport(BackgroundJob):
    """One run of `import_release`, with progress the admin can watch."""

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="imports")
    version = models.CharField(max_length=64)
    source = models.CharField(max_length=1024)
    notes = models.TextField(blank=True)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    bytes_total = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    progress_fields = ("bytes_done", "bytes_total")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model.full_name} {self.version} from {self.source}"
