from django import forms
from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accessgate.catalog.models import Model
from accessgate.core.admin import ReadOnlyAdmin
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error
from accessgate.core.tasks import queue_after_commit

from .imports import release_import_prepare
from .models import DownloadCounter, ReleaseImport
from .progress import import_status, progress_text
from .tasks import run_release_import


class ImportForm(forms.Form):
    model = forms.ModelChoiceField(queryset=Model.objects.order_by("namespace", "name"))
    version = forms.CharField(max_length=64)
    source = forms.CharField(
        label=gettext_lazy("S3 prefix"),
        max_length=1024,
        help_text=gettext_lazy(
            "s3://<the configured bucket>/<namespace>/<name>/… (the model's own prefix), or under an import "
            "prefix opened to you. Local directories and wider prefixes: manage.py import_release."
        ),
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


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

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)  # the add view below calls the service

    def add_view(self, request, form_url="", extra_context=None):
        """Index an s3:// prefix as a release, by the same service and rule as the console."""
        form = ImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = release_import_prepare(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)  # beside the field the service names: version or source
            else:
                queue_after_commit(run_release_import, job.pk, job=(ReleaseImport, job.pk), what="the import")
                return redirect("admin:downloads_releaseimport_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import a release"),
            "form": form,
            "submit_label": _("Import"),
        }
        return TemplateResponse(request, "admin/service_form.html", context, status=400 if form.errors else 200)

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
