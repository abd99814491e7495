from django.contrib import admin

from .models import AuditEvent, AuditExport, VerificationRun


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "action", "actor_label", "target_label", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_label", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditExport)
class AuditExportAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "requested_by_label", "format", "is_full", "status", "rows_done"]
    list_filter = ["status", "format"]
    readonly_fields = [f.name for f in AuditExport._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(VerificationRun)
class VerificationRunAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "status", "ok", "checked", "broken_seq"]
    readonly_fields = [f.name for f in VerificationRun._meta.fields]

    def has_add_permission(self, request):
        return False
