from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accessgate.access.models import Grant
from accessgate.catalog.models import Model, Release, WeightFile
from accessgate.core.jobs import BackgroundJob
from accessgate.core.storage.prefixes import UPLOADS


class DownloadCounter(models.Model):
    """How many downloads of one file one grant has used (for the policy's quota).

    A download counts when a URL is issued and no earlier counted URL for the same grant and
    file is still valid; `counted_until` is the expiry of the last counted URL (the URL itself
    is never stored). Re-issuing before then (a manifest and a retry) costs nothing more.
    """

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="download_counters")
    weight_file = models.ForeignKey(WeightFile, on_delete=models.PROTECT, related_name="download_counters")
    issued = models.PositiveIntegerField(_("downloads counted"), default=0)
    counted_until = models.DateTimeField(_("last counted URL valid until"), null=True, blank=True)

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
    # Live progress (downloads/progress.py): the file being read, the smoothed rate, and
    # what a resumed run found already stored and did not send again.
    current_file = models.CharField(max_length=500, blank=True)
    rate = models.PositiveBigIntegerField(_("bytes per second"), default=0)
    files_reused = models.PositiveIntegerField(_("files already stored"), default=0)
    bytes_reused = models.PositiveBigIntegerField(_("bytes already stored"), default=0)
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


UPLOAD_PART_SIZE = 16 * 1024 * 1024  # S3 parts (at least 5 MiB except the last)
LOCAL_CHUNK_SIZE = 8 * 1024 * 1024  # chunks the browser posts to the portal (local backend)


class ReleaseUpload(models.Model):
    """A release being uploaded from the browser; once every file is in, it becomes a
    `ReleaseImport` of the staged files (so hashing and the release follow one path)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Uploading")
        FINISHED = "finished", _("Uploaded; importing")

    model = models.ForeignKey(Model, on_delete=models.PROTECT, related_name="uploads")
    version = models.CharField(max_length=64)
    notes = models.TextField(blank=True)
    backend = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    release_import = models.ForeignKey(ReleaseImport, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Upload #{self.pk}: {self.model.full_name} {self.version}"

    @property
    def prefix(self) -> str:
        return f"{UPLOADS}{self.pk}/"

    @property
    def staging_dir(self) -> Path:
        """Where a local-backend upload's files wait until the import copies them."""
        return Path(settings.ACCESSGATE_UPLOAD_ROOT) / str(self.pk)


class UploadedFile(models.Model):
    upload = models.ForeignKey(ReleaseUpload, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField()
    bytes_received = models.PositiveBigIntegerField(default=0)  # local backend
    s3_upload_id = models.CharField(max_length=1024, blank=True)
    parts = models.JSONField(default=dict, blank=True, help_text=_("{part number: ETag} of the parts stored"))
    completed = models.BooleanField(default=False)

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["upload", "path"], name="downloads_upload_unique_path")]

    def __str__(self):
        return self.path

    @property
    def part_count(self) -> int:
        return max(1, -(-self.size // UPLOAD_PART_SIZE))
