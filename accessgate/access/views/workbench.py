"""The reviewer's workbench pages: claim/assign, internal notes, bulk decisions."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accessgate.accounts.roles import Role, role_required
from accessgate.accounts.selectors import user_by_email
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError, ValidationFailed

from .. import selectors, services

reviewer_required = role_required(Role.REVIEWER, Role.ADMIN)


def _request_or_404(request, pk):
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request in your queue."))
    return access_request


@reviewer_required
@require_POST
def assign(request, pk):
    """Claim (`assignee=me`), assign to a reviewer by e-mail, or release (empty)."""
    access_request = _request_or_404(request, pk)
    wanted = request.POST.get("assignee", "").strip()
    assignee = request.user if wanted == "me" else (user_by_email(wanted) if wanted else None)
    try:
        if wanted and assignee is None:
            raise ValidationFailed(_("No account with the e-mail %(wanted)s.") % {"wanted": wanted})
        services.access_request_assign(
            actor=request.user, access_request=access_request, assignee=assignee, meta=RequestMeta.from_request(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        who = "you" if assignee == request.user else (assignee.email if assignee else "nobody")
        messages.success(request, _("Request #%(pk)s is assigned to %(who)s.") % {"pk": access_request.pk, "who": who})
    return redirect("review:detail", pk=access_request.pk)


@reviewer_required
@require_POST
def note_add(request, pk):
    access_request = _request_or_404(request, pk)
    try:
        services.review_note_add(
            actor=request.user,
            access_request=access_request,
            text=request.POST.get("text", ""),
            meta=RequestMeta.from_request(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Note added (reviewers only)."))
    return redirect("review:detail", pk=access_request.pk)


@reviewer_required
@require_POST
def bulk(request):
    """One message, many requests: each gets its own checks, result and audit event."""
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        raise Http404(_("No such decision."))
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    if not ids:
        messages.error(request, _("Tick at least one request."))
        return redirect("review:queue")
    results = services.access_requests_bulk_decide(
        actor=request.user,
        request_ids=ids,
        approve=decision == "approve",
        message=request.POST.get("message", ""),
        meta=RequestMeta.from_request(request),
    )
    return render(request, "access/review/bulk_results.html", {"results": results, "decision": decision})


@reviewer_required
@require_POST
def notifications(request):
    try:
        services.reviewer_notifications_set(
            actor=request.user,
            notifications=request.POST.get("notifications", ""),
            meta=RequestMeta.from_request(request),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your review e-mail preference is saved."))
    return redirect("review:queue")
