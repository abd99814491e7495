"""Releases in the console: upload from the browser (JSON steps driven by static/publish/upload.js),
index an s3:// prefix, follow imports live, withdraw and restore."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accessgate.audit.context import RequestMeta
from accessgate.catalog import services as catalog_services
from accessgate.core.errors import DomainError, ValidationFailed
from accessgate.core.forms import add_domain_error
from accessgate.core.http import body_limit
from accessgate.core.json_body import load_json
from accessgate.core.storage import get_storage
from accessgate.core.tasks import queue_after_commit
from accessgate.downloads import uploads
from accessgate.downloads.imports import release_import_prepare
from accessgate.downloads.models import LOCAL_CHUNK_SIZE, ReleaseImport, ReleaseUpload, UploadedFile
from accessgate.downloads.progress import import_status
from accessgate.downloads.tasks import run_release_import

from ..forms import IndexS3Form, ReasonForm
from .console import console_model, page, publisher_required


@publisher_required
@require_http_methods(["GET", "POST"])
def releases(request, namespace, name):
    model = console_model(request, namespace, name)
    form = IndexS3Form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = release_import_prepare(
                actor=request.user, model=model, version=data["version"], source=data["source"], notes=data["notes"]
            )
        except DomainError as error:
            add_domain_error(form, error)  # beside the field the service names: version or source
        else:
            queue_after_commit(run_release_import, job.pk, job=(ReleaseImport, job.pk), what="the import")
            return redirect("publish:import", namespace=model.namespace, name=model.name, pk=job.pk)
    response = page(
        request,
        model,
        "releases",
        {
            "form": form,
            "reason_form": ReasonForm(),
            "releases": model.releases.prefetch_related("files").order_by("-created_at"),
            "imports": model.imports.select_related("requested_by", "release").order_by("-created_at")[:20],
        },
        status=400 if form.errors else 200,
    )
    storage = get_storage()
    if storage.name == "s3" and settings.ACCESSGATE_CSP:
        # The upload script PUTs parts straight to the bucket: allow that origin on this page only.
        response["Content-Security-Policy"] = f"{settings.ACCESSGATE_CSP}; connect-src 'self' {storage.upload_origin()}"
    return response


@publisher_required
def release_import(request, namespace, name, pk):
    """One import's progress; the page refreshes itself while the import runs."""
    model = console_model(request, namespace, name)
    job = get_object_or_404(ReleaseImport.objects.select_related("requested_by", "release"), pk=pk, model=model)
    status_url = reverse("publish:import_status", args=[model.namespace, model.name, job.pk])
    return page(request, model, "import", {"job": job, "progress": import_status(job), "status_url": status_url})


@publisher_required
@require_GET
def release_import_status(request, namespace, name, pk):
    """The import's progress as JSON, for the page's polling script."""
    model = console_model(request, namespace, name)
    job = get_object_or_404(ReleaseImport, pk=pk, model=model)
    return JsonResponse(import_status(job))


@publisher_required
@require_POST
def release_withdraw(request, namespace, name, version, action):
    model = console_model(request, namespace, name)
    release = get_object_or_404(model.releases, version=version)
    form = ReasonForm(request.POST)
    service = {"withdraw": catalog_services.release_withdraw, "restore": catalog_services.release_restore}.get(action)
    if service is None:
        raise Http404(_("No such action."))
    try:
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        service(actor=request.user, release=release, reason=reason, meta=RequestMeta.from_request(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        done = _("Release %(version)s withdrawn.") if action == "withdraw" else _("Release %(version)s restored.")
        messages.success(request, done % {"version": version})
    return redirect("publish:releases", namespace=model.namespace, name=model.name)


# --- the browser upload's JSON steps -----------------------------------------------------------


def _json_error(error: DomainError) -> JsonResponse:
    return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=error.http_status)


def _upload(model, pk) -> ReleaseUpload:
    return get_object_or_404(ReleaseUpload.objects.select_related("model"), pk=pk, model=model)


def _file(upload, file_pk) -> UploadedFile:
    return get_object_or_404(UploadedFile.objects.select_related("upload"), pk=file_pk, upload=upload)


def _size(value) -> int:
    """A file's declared size: a whole number of bytes (JSON may say `1e400` or `true`)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationFailed(_("Each file's size must be a whole number of bytes."), field="files")
    try:
        return int(value)
    except ValueError as error:
        raise ValidationFailed(_("Each file's size must be a whole number of bytes."), field="files") from error


@publisher_required
@require_POST
def upload_start(request, namespace, name):
    model = console_model(request, namespace, name)
    try:
        body = load_json(request.body, empty={})
        if not isinstance(body, dict) or not isinstance(body.get("files", []), list):
            raise ValidationFailed(_("The upload request is not valid JSON."))
        files = [(str(f["path"]), _size(f["size"])) for f in body.get("files", [])]
    except DomainError as error:
        return _json_error(error)
    except (KeyError, TypeError):
        return _json_error(ValidationFailed(_("The upload request is not valid JSON.")))
    try:
        upload = uploads.upload_start(
            actor=request.user,
            model=model,
            version=str(body.get("version", "")),
            notes=str(body.get("notes", "")),
            files=files,
            meta=RequestMeta.from_request(request),
        )
    except DomainError as error:
        return _json_error(error)
    return JsonResponse(uploads.upload_state(upload), status=201)


@publisher_required
@require_GET
def upload_state(request, namespace, name, pk):
    return JsonResponse(uploads.upload_state(_upload(console_model(request, namespace, name), pk)))


@publisher_required
@require_POST
def upload_part(request, namespace, name, pk, file_pk, number):
    """Without an `etag`: a presigned URL for the part. With one: the part is stored."""
    uploaded = _file(_upload(console_model(request, namespace, name), pk), file_pk)
    etag = request.POST.get("etag")
    try:
        if etag is None:
            return JsonResponse({"url": uploads.upload_part_url(uploaded=uploaded, part_number=number)})
        uploads.upload_part_done(uploaded=uploaded, part_number=number, etag=etag)
    except DomainError as error:
        return _json_error(error)
    return JsonResponse({"ok": True})


@body_limit(lambda: LOCAL_CHUNK_SIZE)
@publisher_required
@require_POST
def upload_chunk(request, namespace, name, pk, file_pk):
    uploaded = _file(_upload(console_model(request, namespace, name), pk), file_pk)
    try:
        offset = int(request.GET.get("offset", ""))
        length = int(request.headers.get("Content-Length", ""))
    except ValueError:
        return _json_error(ValidationFailed(_("Name the chunk's offset.")))
    try:
        uploaded = uploads.upload_chunk(uploaded=uploaded, offset=offset, stream=request, length=length)
    except DomainError as error:
        return _json_error(error)
    return JsonResponse({"bytes_received": uploaded.bytes_received})


@publisher_required
@require_POST
def upload_complete(request, namespace, name, pk, file_pk):
    uploaded = _file(_upload(console_model(request, namespace, name), pk), file_pk)
    try:
        uploads.upload_file_complete(uploaded=uploaded)
    except DomainError as error:
        return _json_error(error)
    return JsonResponse({"ok": True})


@publisher_required
@require_POST
def upload_finish(request, namespace, name, pk):
    model = console_model(request, namespace, name)
    try:
        job = uploads.upload_finish(
            actor=request.user, upload=_upload(model, pk), meta=RequestMeta.from_request(request)
        )
    except DomainError as error:
        return _json_error(error)
    return JsonResponse({"redirect": reverse("publish:import", args=[model.namespace, model.name, job.pk])})
