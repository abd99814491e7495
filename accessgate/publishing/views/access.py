"""The console's Access section: HF-style pending / accepted / rejected lists with the review
pages' actions (the same services), revocation, filters and search."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accessgate.access import services as access_services
from accessgate.access.models import AccessRequest, Grant, RequestStatus
from accessgate.access.rules.requirements import waiting_label
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError

from .console import console_model, page, publisher_required

PAGE_SIZE = 25
LISTS = {
    "pending": "Pending",
    "accepted": "Accepted",
    "rejected": "Rejected",
}
DECISIONS = {
    "approve": (access_services.access_request_approve, "message"),
    "reject": (access_services.access_request_reject, "reason"),
    "changes": (access_services.access_request_request_changes, "message"),
}


def _search(queryset, search: str, prefix: str = ""):
    search = search.strip()
    if not search:
        return queryset
    return queryset.filter(
        Q(**{f"{prefix}user__email__icontains": search})
        | Q(**{f"{prefix}user__username__icontains": search})
        | Q(**{f"{prefix}user__profile__full_name__icontains": search})
        | Q(**{f"{prefix}user__profile__affiliation__icontains": search})
    )


@publisher_required
def access(request, namespace, name):
    model = console_model(request, namespace, name)
    which = request.GET.get("list", "pending")
    which = which if which in LISTS else "pending"
    search = request.GET.get("q", "")
    if which == "accepted":
        items = _search(Grant.objects.filter(model=model).with_is_active(), search)
        show_ended = request.GET.get("ended") == "1"
        if not show_ended:
            items = items.active()
        items = items.select_related("user__profile").order_by("-granted_at")
    else:
        statuses = (
            [RequestStatus.SUBMITTED, RequestStatus.CHANGES_REQUESTED]
            if which == "pending"
            else [RequestStatus.REJECTED]
        )
        items = _search(AccessRequest.objects.filter(model=model, status__in=statuses), search)
        items = items.select_related("user__profile").order_by("submitted_at", "pk")
    counts = {
        "pending": model.access_requests.filter(
            status__in=[RequestStatus.SUBMITTED, RequestStatus.CHANGES_REQUESTED]
        ).count(),
        "accepted": Grant.objects.active().filter(model=model).count(),
        "rejected": model.access_requests.filter(status=RequestStatus.REJECTED).count(),
    }
    return page(
        request,
        model,
        "access",
        {
            "which": which,
            "lists": [(key, label, counts[key]) for key, label in LISTS.items()],
            "search": search,
            "page": Paginator(items, PAGE_SIZE).get_page(request.GET.get("page")),
            "show_ended": request.GET.get("ended") == "1",
        },
    )


@publisher_required
@require_POST
def decide(request, namespace, name, pk, decision):
    model = console_model(request, namespace, name)
    access_request = get_object_or_404(AccessRequest, pk=pk, model=model)
    if decision not in DECISIONS:
        return redirect("publish:access", namespace=model.namespace, name=model.name)
    service, argument = DECISIONS[decision]
    try:
        service(
            actor=request.user,
            access_request=access_request,
            meta=RequestMeta.from_request(request),
            **{argument: request.POST.get("message", "")},
        )
    except DomainError as error:
        messages.error(request, _("Request #%(pk)s: %(message)s") % {"pk": pk, "message": error.message})
    else:
        messages.success(
            request,
            _("Request #%(pk)s by %(email)s: %(decision)s done.")
            % {"pk": pk, "email": access_request.user.email, "decision": decision},
        )
    return redirect("publish:access", namespace=model.namespace, name=model.name)


@publisher_required
@require_POST
def revoke(request, namespace, name, pk):
    model = console_model(request, namespace, name)
    grant = get_object_or_404(Grant, pk=pk, model=model)
    try:
        access_services.grant_revoke(
            actor=request.user,
            grant=grant,
            reason=request.POST.get("reason", ""),
            meta=RequestMeta.from_request(request),
        )
    except DomainError as error:
        messages.error(request, _("Grant #%(pk)s: %(message)s") % {"pk": pk, "message": error.message})
    else:
        messages.success(request, _("Access of %(email)s revoked.") % {"email": grant.user.email})
    return redirect(reverse("publish:access", args=[model.namespace, model.name]) + "?list=accepted")


@publisher_required
@require_POST
def grant_by_username(request, namespace, name):
    """Hugging Face's "grant by username": one reviewer's approval without an application
    (`grant_create_direct`); the grant waits for whatever else the policy needs."""
    model = console_model(request, namespace, name)
    username = request.POST.get("username", "").strip().lstrip("@")
    user = get_user_model().objects.filter(username__iexact=username, is_active=True).first() if username else None
    if user is None:
        messages.error(
            request, _("No active account with the username %(username)s.") % {"username": username or _("(empty)")}
        )
    else:
        try:
            grant = access_services.grant_create_direct(
                actor=request.user, user=user, model=model, meta=RequestMeta.from_request(request)
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            if grant is None:  # their open request's first of two approvals
                messages.success(
                    request,
                    _("Your approval of %(username)s's request is recorded; a second reviewer decides it.")
                    % {"username": user.username},
                )
            elif grant.waiting_for:
                messages.success(
                    request,
                    _("%(username)s's grant is %(waiting)s.")
                    % {"username": user.username, "waiting": waiting_label(grant.waiting_for)},
                )
            else:
                messages.success(request, _("%(username)s has access.") % {"username": user.username})
    return redirect(reverse("publish:access", args=[model.namespace, model.name]) + "?list=accepted")
