from django.contrib import admin

from accessgate.core.admin import ReadOnlyAdmin

from .models import AuditEvent, AuditExport, Checkpoint, RefusalTally, VerificationRun


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "action", "actor_label", "target_label", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_label", "action"]


@admin.register(AuditExport)
class AuditExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "requested_by_label", "format", "is_full", "status", "rows_done"]
    list_filter = ["status", "format"]


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "status", "ok", "checked", "broken_seq"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "reason", "key_id", "storage_key", "stored_at"]
    list_filter = ["reason"]


@admin.register(RefusalTally)
class RefusalTallyAdmin(ReadOnlyAdmin):
    list_display = ["window_start", "action", "reason", "caller_key", "target_key", "count", "recorded_seq"]
    list_filter = ["action", "reason"]
