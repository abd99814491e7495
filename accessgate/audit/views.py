from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accessgate.accounts.roles import Role, role_required

from . import selectors, signing
from .chain import canonical_json, event_payload
from .context import RequestMeta
from .forms import AuditFilterForm, ExportForm
from .models import AuditExport, VerificationRun
from .selectors import filter_events
from .services import audit_export_download, audit_export_request, audit_verification_request

auditor_required = role_required(Role.AUDITOR, Role.ADMIN)


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@auditor_required
def trail(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.filters() if form.is_valid() else {}
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
            "export_form": ExportForm(initial=filters),
            "verifications": selectors.recent_verifications(),
            "chain": selectors.chain_status(),
        },
    )


@auditor_required
def event_detail(request, seq):
    event = selectors.event_by_seq(seq)
    if event is None:
        raise Http404("No event with this number.")
    return render(
        request,
        "audit/event_detail.html",
        {"event": event, "canonical": canonical_json(event_payload(event)).decode()},
    )


@auditor_required
@require_POST
def verify(request):
    run = audit_verification_request(actor=request.user, meta=RequestMeta.from_request(request))
    return redirect("audit:verification", pk=run.pk)


@never_cache
@auditor_required
def verification(request, pk):
    run = get_object_or_404(VerificationRun, pk=pk)
    template = "audit/_verification_status.html" if request.headers.get("HX-Request") else "audit/verification.html"
    return render(request, template, {"run": run, "finished": run.finished})


@auditor_required
@require_http_methods(["GET", "POST"])
def exports(request):
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export = audit_export_request(
            actor=request.user,
            filters=form.filters(),
            format=form.cleaned_data["format"],
            meta=RequestMeta.from_request(request),
        )
        messages.success(request, f"Export #{export.pk} is being prepared.")
        return redirect("audit:export", pk=export.pk)
    return render(request, "audit/exports.html", {"form": form, "exports": selectors.recent_exports()})


@never_cache
@auditor_required
def export_detail(request, pk):
    export = get_object_or_404(AuditExport, pk=pk)
    template = "audit/_export_status.html" if request.headers.get("HX-Request") else "audit/export_detail.html"
    return render(request, template, {"export": export, "finished": export.finished})


@never_cache
@auditor_required
def export_download(request, pk):
    export = get_object_or_404(AuditExport, pk=pk)
    url = audit_export_download(actor=request.user, export=export, part="file", meta=RequestMeta.from_request(request))
    return HttpResponseRedirect(request.build_absolute_uri(url))


@never_cache
@auditor_required
def export_manifest(request, pk):
    export = get_object_or_404(AuditExport, pk=pk)
    document = audit_export_download(
        actor=request.user, export=export, part="manifest", meta=RequestMeta.from_request(request)
    )
    response = JsonResponse(document, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}.manifest.json"'
    return response


def public_key(request):
    """The key that signs export manifests, for anyone to verify them with (stable URL)."""
    response = HttpResponse(signing.public_key_pem(), content_type="application/x-pem-file")
    response["X-Key-Id"] = signing.key_id()
    response["Cache-Control"] = "public, max-age=3600"
    return response
