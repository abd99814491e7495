"""The per-day download rollup the staff dashboard reads instead of scanning the audit trail.

Derived data: built from the audit events of *closed* UTC days by `reporting/download_rollup.py`
(celery-beat each hour, and the dashboard on demand for a day still missing) and rebuilt
identically at any time, so writing it is not an audited state change. Nothing on a download's
request path touches these tables: clients downloading the same model on the same day never
queue on one counter row.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DownloadDay(models.Model):
    """What the audit trail says was issued for one model on one closed UTC day."""

    day = models.DateField()
    # The events' `details.model` (namespace/name) as recorded, like the trail's own snapshots.
    model_name = models.CharField(max_length=200)
    files = models.PositiveBigIntegerField(help_text=_("One per issued file URL; a manifest's file_count."))
    bytes = models.PositiveBigIntegerField(help_text=_("The issued files' sizes; a manifest's total_bytes."))
    events = models.PositiveBigIntegerField(help_text=_("download.url_issued and download.manifest_issued events."))

    class Meta:
        ordering = ["day", "model_name"]
        constraints = [models.UniqueConstraint(fields=["day", "model_name"], name="access_downloadday_one_per_model")]

    def __str__(self):
        return f"{self.day} {self.model_name}: {self.files} files"


class DownloadUserDay(models.Model):
    """What one researcher was issued on one closed UTC day (their "My downloads" page)."""

    day = models.DateField()
    # Like the audit trail's actor: no constraint, no cascade; history outlives the account.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    files = models.PositiveBigIntegerField()
    bytes = models.PositiveBigIntegerField()
    events = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["actor", "day"], name="access_downloaduserday_one_per_day")]

    def __str__(self):
        return f"{self.day} user {self.actor_id}: {self.files} files"


class DownloadDayBuilt(models.Model):
    """A closed day whose rollup is built (a day without downloads has no DownloadDay row, so
    this row is what tells "nothing was downloaded" from "not built yet")."""

    day = models.DateField(primary_key=True)
    built_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]

    def __str__(self):
        return f"downloads of {self.day} rolled up"
