from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.core.admin import ReadOnlyAdmin

from .models import DownloadCounter, ReleaseImport
from .progress import import_status, progress_text


@admin.register(ReleaseImport)
class ReleaseImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "model", "version", "source", "status", "progress", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = ["progress_detail"]

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job):
        return progress_text(job)

    @admin.display(description=gettext_lazy("progress"))
    def progress_detail(self, job):
        """The console's progress block (the same include), kept current by the same script."""
        status_url = reverse("admin:downloads_releaseimport_status", args=[job.pk])
        html = render_to_string(
            "downloads/_import_progress.html", {"progress": import_status(job), "status_url": status_url}
        )
        return mark_safe(html.replace("\n", " "))  # noqa: S308 (our own template's output; the admin would add <br>s)

    def get_urls(self):
        status = path(
            "<int:pk>/status/", self.admin_site.admin_view(self.status_view), name="downloads_releaseimport_status"
        )
        return [status, *super().get_urls()]

    def status_view(self, request, pk):
        if not self.has_view_permission(request):
            return JsonResponse({"error": {"code": "forbidden", "message": _("Not allowed.")}}, status=403)
        return JsonResponse(import_status(get_object_or_404(ReleaseImport, pk=pk)))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = ReleaseImport.objects.filter(pk=object_id).first()
        extra_context = {**(extra_context or {}), "import_running": bool(job and not job.finished)}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(DownloadCounter)
class DownloadCounterAdmin(ReadOnlyAdmin):
    list_display = ["grant", "weight_file", "issued"]
