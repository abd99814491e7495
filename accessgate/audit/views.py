from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accessgate.access.selectors import audit_targets_of
from accessgate.accounts.roles import Role, role_required
from accessgate.accounts.selectors import user_by_email
from accessgate.core.http import AuthenticatedRequest

from . import selectors, signing
from .chain import canonical_json, event_payload
from .checkpoints import MANUAL, checkpoint_create, latest_checkpoint
from .context import RequestMeta
from .exports import audit_export_download, audit_export_request
from .forms import AuditFilterForm, ExportForm
from .models import AuditEvent, AuditExport, Checkpoint, VerificationRun
from .selectors import filter_events
from .verification import audit_verification_request

auditor_required = role_required(Role.AUDITOR, Role.ADMIN)


def _with_person(filters: dict[str, Any]) -> dict[str, Any]:
    """Resolve the person filter to their account and the targets that are theirs, so the
    trail (and an export's recorded filters) say exactly what was matched."""
    if filters.get("person"):
        user = user_by_email(filters["person"])
        if user is not None:
            filters = {**filters, "person_id": user.pk, "person_targets": audit_targets_of(user)}
    return filters


def target_page_url(event: AuditEvent) -> str:
    """The portal page of an event's target, when it has one."""
    kind, pk, label = event.target_type, event.target_id, event.target_label
    try:
        if kind == "access.accessrequest":
            return reverse("review:detail", args=[int(pk)])
        if kind == "audit.auditexport":
            return reverse("audit:export", args=[int(pk)])
        if kind == "catalog.model" and label.count("/") == 1:
            return reverse("catalog:model_detail", args=label.split("/"))
    except (ValueError, NoReverseMatch):
        return ""
    return ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@auditor_required
def trail(request: AuthenticatedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = _with_person(form.filters()) if form.is_valid() else {}
    events, newer, older = selectors.event_page(
        filter_events(filters), before=_int(request.GET.get("before")), after=_int(request.GET.get("after"))
    )
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return render(
        request,
        "audit/trail.html",
        {
            "form": form,
            "events": events,
            "newer": newer,
            "older": older,
            "query": query.urlencode(),
            "export_form": ExportForm(initial=form.filters() if form.is_valid() else {}),
            "verifications": selectors.recent_verifications(),
            "chain": selectors.chain_status(),
            "checkpoint": latest_checkpoint(),
        },
    )


@auditor_required
def event_detail(request: AuthenticatedRequest, seq: int) -> HttpResponse:
    event = selectors.event_by_seq(seq)
    if event is None:
        raise Http404(_("No event with this number."))
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "canonical": canonical_json(event_payload(event)).decode(),
            "target_url": target_page_url(event),
        },
    )


@auditor_required
@require_POST
def verify(request: AuthenticatedRequest) -> HttpResponse:
    run = audit_verification_request(actor=request.user, meta=RequestMeta.from_request(request))
    return redirect("audit:verification", pk=run.pk)


@never_cache
@auditor_required
def verification(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(VerificationRun, pk=pk)
    template = "audit/_verification_status.html" if request.headers.get("HX-Request") else "audit/verification.html"
    return render(request, template, {"run": run, "finished": run.finished})


@auditor_required
@require_http_methods(["GET", "POST"])
def exports(request: AuthenticatedRequest) -> HttpResponse:
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export = audit_export_request(
            actor=request.user,
            filters=_with_person(form.filters()),
            format=form.cleaned_data["format"],
            meta=RequestMeta.from_request(request),
        )
        messages.success(request, _("Export #%(pk)s requested; its state is shown below.") % {"pk": export.pk})
        return redirect("audit:export", pk=export.pk)
    return render(request, "audit/exports.html", {"form": form, "exports": selectors.recent_exports()})


@never_cache
@auditor_required
def export_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(AuditExport, pk=pk)
    template = "audit/_export_status.html" if request.headers.get("HX-Request") else "audit/export_detail.html"
    return render(request, template, {"export": export, "finished": export.finished})


@never_cache
@auditor_required
def export_download(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(AuditExport, pk=pk)
    url = audit_export_download(actor=request.user, export=export, part="file", meta=RequestMeta.from_request(request))
    return HttpResponseRedirect(request.build_absolute_uri(url))


@never_cache
@auditor_required
def export_manifest(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(AuditExport, pk=pk)
    document = audit_export_download(
        actor=request.user, export=export, part="manifest", meta=RequestMeta.from_request(request)
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}.manifest.json"'
    return response


def public_key(request: HttpRequest) -> HttpResponse:
    """The key that signs export manifests, for anyone to verify them with (stable URL)."""
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["X-Key-Id"] = signing.key_id()
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- checkpoints: public, cacheable, for anyone to poll and keep -------------------------

CHECKPOINT_PAGE = 100
PUBLIC_CACHE = "public, max-age=60"


def _public_json(request: HttpRequest, document: dict[str, Any], *, etag: str, status: int = 200) -> HttpResponse:
    quoted = f'"{etag}"'
    if request.headers.get("If-None-Match") == quoted:
        response = HttpResponse(status=304)
    else:
        response = JsonResponse(document, status=status, json_dumps_params={"indent": 2, "sort_keys": True})
    response["ETag"] = quoted
    response["Cache-Control"] = PUBLIC_CACHE
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_http_methods(["GET", "HEAD"])
def checkpoint_latest(request: HttpRequest) -> HttpResponse:
    """The newest signed checkpoint: `{"checkpoint": {...}, "signature": "..."}`."""
    latest = latest_checkpoint()
    if latest is None:
        missing = {"error": {"code": "not_found", "message": _("No checkpoint yet.")}}
        return _public_json(request, missing, etag="none", status=404)
    return _public_json(request, latest.signed, etag=f"{latest.seq}-{latest.hash}")


@require_http_methods(["GET", "HEAD"])
def checkpoint_list(request: HttpRequest) -> HttpResponse:
    """Every checkpoint, newest first, `CHECKPOINT_PAGE` per page; `next` links the older ones."""
    before = _int(request.GET.get("before"))
    rows = Checkpoint.objects.order_by("-seq", "-id")
    if before is not None:
        rows = rows.filter(seq__lt=before)
    page = list(rows[: CHECKPOINT_PAGE + 1])
    more, page = len(page) > CHECKPOINT_PAGE, page[:CHECKPOINT_PAGE]
    document = {
        "checkpoints": [c.signed for c in page],
        "next": f"{reverse('audit:checkpoints')}?before={page[-1].seq}" if more else None,
        "public_key": reverse("audit:public_key"),
    }
    etag = f"{before}-{page[0].seq}-{page[0].hash}-{len(page)}" if page else f"{before}-empty"
    return _public_json(request, document, etag=etag)


@auditor_required
@require_POST
def checkpoint_now(request: AuthenticatedRequest) -> HttpResponse:
    checkpoint, created = checkpoint_create(actor=request.user, reason=MANUAL, meta=RequestMeta.from_request(request))
    if created:
        messages.success(
            request, _("Checkpoint #%(seq)s signed; it is written to storage and published.") % {"seq": checkpoint.seq}
        )
    else:
        messages.info(request, _("Nothing new since checkpoint #%(seq)s.") % {"seq": checkpoint.seq})
    return redirect("audit:trail")
