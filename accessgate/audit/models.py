from typing import TYPE_CHECKING, Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accessgate.core.jobs import BackgroundJob

from . import actions

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only; they cannot be updated.")

    def delete(self) -> NoReturn:
        raise TypeError("Audit events are append-only; they cannot be deleted.")


class AuditEvent(models.Model):
    """One audited state change. Written only by `audit.services.record`.

    The request's transaction inserts the event with empty chain fields (`id` is the order of
    insertion); the chainer (`audit/chainer.py`) links committed events into the hash chain
    (see `audit/chain.py`) in batches: `seq` has no gaps, `prev_hash` is the previous event's
    `hash`. PostgreSQL refuses UPDATE, DELETE and TRUNCATE on this table except that one-time
    filling of the chain fields (triggers, migration 0010); this model refuses them on every
    database.
    """

    seq = models.PositiveBigIntegerField(unique=True, null=True, blank=True)
    prev_hash = models.CharField(max_length=64, null=True, blank=True)
    # Not unique, not indexed: nothing looks an event up by its hash (seq is the chain's key),
    # and each index here costs every append and every chain fill an entry (the fill is not a
    # HOT update). A repeated hash would need a SHA-256 collision; verify checks every link.
    hash = models.CharField(max_length=64, null=True, blank=True)
    # The event's export line (`chain.export_line`), stored when it is chained, so exports
    # stream it with COPY and the database can re-hash it (verification.py checks it
    # against the columns too).
    line = models.TextField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No database constraint and no cascade: deleting a user must never touch history.
    # The label is the snapshot that survives.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=320)
    # Validated in Python (`audit.actions.validate`), so a new action needs no migration.
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    details = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # The chainer's queue: events not yet linked, in insertion order.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_event_unchained"),
            # The dashboards' bounded reads: one action (downloads) over recent days.
            models.Index(fields=["action", "created_at"], name="audit_action_created_idx"),
            # A researcher's own download history, newest first, however many other events they have.
            models.Index(
                fields=["actor", "-created_at"],
                condition=models.Q(
                    action__in=[actions.AuditAction.DOWNLOAD_URL_ISSUED, actions.AuditAction.DOWNLOAD_MANIFEST_ISSUED]
                ),
                name="audit_download_actor_idx",
            ),
        ]

    def __str__(self) -> str:
        where = f"#{self.seq}" if self.seq is not None else f"(not yet chained, id {self.pk})"
        return f"{where} {self.action} by {self.actor_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Audit events are append-only; they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("Audit events are append-only; they cannot be deleted.")

    def get_action_display(self) -> "StrOrPromise":
        return actions.label(self.action)


class ChainHead(models.Model):
    """The end of the chain. Only the chainer locks it (`select_for_update`), so batches link
    in one order with no gaps or forks; requests never touch it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chainhead_single_row")]

    def __str__(self) -> str:
        return f"chain head at #{self.seq}"


class VerificationRun(BackgroundJob):
    """One "verify now" run of the chain check, done by a Celery task."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ok = models.BooleanField(null=True)
    checked = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0)
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True)

    progress_fields = ("checked", "total")
    error_field = "summary"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Verification #{self.pk} ({self.status})"


class ExportFormat(models.TextChoices):
    JSONL = "jsonl", _("JSON Lines")
    CSV = "csv", _("CSV")


class AuditExport(BackgroundJob):
    """An export of (part of) the trail to storage, with a signed manifest."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=320)
    filters = models.JSONField(default=dict, blank=True)
    format = models.CharField(max_length=8, choices=ExportFormat.choices, default=ExportFormat.JSONL)
    is_full = models.BooleanField(_("full, unfiltered trail"), default=False)
    scheduled_day = models.DateField(null=True, blank=True, unique=True, help_text=_("Set for the daily SIEM export."))
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    storage_key = models.CharField(max_length=1024, blank=True)
    manifest = models.JSONField(null=True, blank=True)
    signature = models.TextField(blank=True)
    error = models.TextField(blank=True)

    progress_fields = ("rows_done", "rows_total")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Audit export #{self.pk}"

    @property
    def file_name(self) -> str:
        day = f"-{self.scheduled_day:%Y-%m-%d}" if self.scheduled_day else ""
        return f"audit-export-{self.pk}{day}.{self.format}"


class Checkpoint(models.Model):
    """A signed statement of the chain head (`seq`, `hash`), written outside the database.

    This row is for listing and publishing; verification relies on the copies kept in
    storage (`storage_key`) and by outside parties, which a database administrator cannot
    rewrite. See `audit/checkpoints.py`.
    """

    seq = models.PositiveBigIntegerField(db_index=True)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=32)
    key_id = models.CharField(max_length=32)
    document = models.JSONField()
    signature = models.TextField()
    storage_key = models.CharField(max_length=1024, blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    store_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-seq", "-id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} ({self.hash[:12]}…)"

    @property
    def signed(self) -> dict[str, Any]:
        return {"checkpoint": self.document, "signature": self.signature}


class RefusalTally(models.Model):
    """Refusals counted per (action, reason, caller, target, minute); each closed window
    becomes one audit event carrying the count (`audit/refusals.py`)."""

    action = models.CharField(max_length=64)
    reason = models.CharField(max_length=64)
    caller_key = models.CharField(max_length=128)
    target_key = models.CharField(max_length=160, blank=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    recorded_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["action", "reason", "caller_key", "target_key", "window_start"], name="audit_refusal_window"
            )
        ]
        indexes = [models.Index(fields=["recorded_seq", "window_start"])]

    def __str__(self) -> str:
        return f"{self.action} {self.reason} × {self.count} ({self.caller_key})"
