from django.contrib import admin
from django.utils.html import format_html

from .models import DownloadCounter, ReleaseImport


@admin.register(ReleaseImport)
class ReleaseImportAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "version", "source", "status", "progress", "files", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in ReleaseImport._meta.fields] + ["progress"]

    @admin.display(description="progress")
    def progress(self, job):
        return format_html('<progress max="100" value="{}"></progress> {}%', job.percent, job.percent)

    @admin.display(description="files")
    def files(self, job):
        return f"{job.files_done} / {job.files_total}"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DownloadCounter)
class DownloadCounterAdmin(admin.ModelAdmin):
    list_display = ["grant", "weight_file", "issued"]
    readonly_fields = ["grant", "weight_file", "issued"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
