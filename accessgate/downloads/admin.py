from django.contrib import admin
from django.utils.html import format_html

from accessgate.core.admin import ReadOnlyAdmin

from .models import DownloadCounter, ReleaseImport


@admin.register(ReleaseImport)
class ReleaseImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "model", "version", "source", "status", "progress", "files", "created_at", "finished_at"]
    list_filter = ["status"]

    @admin.display(description="progress")
    def progress(self, job):
        return format_html('<progress max="100" value="{}"></progress> {}%', job.percent, job.percent)

    @admin.display(description="files")
    def files(self, job):
        return f"{job.files_done} / {job.files_total}"


@admin.register(DownloadCounter)
class DownloadCounterAdmin(ReadOnlyAdmin):
    list_display = ["grant", "weight_file", "issued"]
