from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accessgate.accounts.models import User
from accessgate.accounts.roles import Role, has_role, role_required
from accessgate.audit.context import RequestMeta
from accessgate.audit.receipts import receipt_response
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from .. import selectors, services
from ..forms import ReasonForm, ReviewDecisionForm, RevokeForm
from ..models import GrantStatus, RequestStatus, ReviewNotifications
from ..rules.requirements import waiting_label
from ..selectors import applicant_facts

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PAGE_SIZE = 25
reviewer_required = role_required(Role.REVIEWER, Role.ADMIN)

DECISIONS = {
    "approve": (services.access_request_approve, "message", gettext_lazy("Approved; the applicant has access now.")),
    "reject": (services.access_request_reject, "reason", gettext_lazy("Rejected; the applicant sees your reason.")),
    "changes": (
        services.access_request_request_changes,
        "message",
        gettext_lazy("Sent back to the applicant for changes."),
    ),
}


def _approved_message(grant, access_request) -> "StrOrPromise":
    if grant is None:
        required = access_request.model.policy.approvals_required
        return _("Your approval is recorded: 1 of %(required)s approvals. A second reviewer must approve.") % {
            "required": required
        }
    if grant.status == GrantStatus.PENDING:
        return _("%(waiting)s. The grant starts the moment they hold.") % {
            "waiting": waiting_label(grant.waiting_for, sentence=True)
        }
    return DECISIONS["approve"][2]


@reviewer_required
def queue(request):
    search = request.GET.get("q", "")
    status = request.GET.get("status", RequestStatus.SUBMITTED)
    if status not in RequestStatus.values and status != "":
        status = RequestStatus.SUBMITTED
    requests = selectors.review_queue(request.user, search=search, status=status)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for row in page:
        row.flags = selectors.queue_flags(row, request.user)
        row.age_days = (now - row.submitted_at).days
        row.is_overdue = row.review_due_at is not None and row.review_due_at < now
    return render(
        request,
        "access/review/queue.html",
        {
            "page": page,
            "search": search,
            "status": status,
            "statuses": RequestStatus.choices,
            "notifications": selectors.review_notifications_of(request.user),
            "notification_choices": ReviewNotifications.choices,
        },
    )


def _detail_page(request, access_request, *, form=None, recuse_form=None, failed_decision=None, status=200):
    return render(
        request,
        "access/review/detail.html",
        {
            "access_request": access_request,
            "history": selectors.applicant_history(access_request),
            "form": form or ReviewDecisionForm(),
            "recuse_form": recuse_form or ReasonForm(),
            "failed_decision": failed_decision,
            "is_own": access_request.user_id == request.user.pk,
            "my_decision": selectors.decision_event(access_request, request.user),
            "escalations": access_request.escalations.filter(round=access_request.submitted_at),
            "can_add_reviewer": has_role(request.user, Role.ADMIN) and access_request.is_open,
            **applicant_facts(access_request, request.user),
        },
        status=status,
    )


@reviewer_required
def detail(request, pk):
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request in your queue."))
    return _detail_page(request, access_request)


@reviewer_required
def decision_receipt(request, pk):
    """The signed receipt of this reviewer's latest decision on the request."""
    access_request = selectors.request_for_review(request.user, pk)
    event = selectors.decision_event(access_request, request.user) if access_request else None
    if event is None:
        raise Http404(_("You have not decided this request."))
    return receipt_response(request, event)


@reviewer_required
@require_POST
def decide(request, pk, decision):
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None or decision not in DECISIONS:
        raise Http404(_("No such request in your queue."))
    service, message_argument, success = DECISIONS[decision]
    form = ReviewDecisionForm(request.POST)
    status = 400
    if form.is_valid():
        extra = {"grant_days": form.cleaned_data["grant_days"]} if decision == "approve" else {}
        try:
            result = service(
                actor=request.user,
                access_request=access_request,
                meta=RequestMeta.from_request(request),
                **{message_argument: form.cleaned_data["message"]},
                **extra,
            )
        except DomainError as error:
            # e.g. 409 when another reviewer decided this request a moment ago
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, _approved_message(result, access_request) if decision == "approve" else success)
            return redirect("review:queue")
    return _detail_page(request, access_request, form=form, failed_decision=decision, status=status)


@reviewer_required
@require_POST
def recuse(request, pk):
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request in your queue."))
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.access_request_recuse(
                actor=request.user,
                access_request=access_request,
                reason=form.cleaned_data["reason"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("You recused yourself from request #%(pk)s.") % {"pk": access_request.pk})
            return redirect("review:queue")
    return _detail_page(request, access_request, recuse_form=form, status=400)


APPEAL_OUTCOMES = {
    "grant": (True, gettext_lazy("Appeal granted; the request is approved.")),
    "deny": (False, gettext_lazy("Appeal denied; the rejection stands and the applicant is told.")),
}


@reviewer_required
@require_POST
def appeal_decide(request, pk, outcome):
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None or outcome not in APPEAL_OUTCOMES:
        raise Http404(_("No such request in your queue."))
    grant, success = APPEAL_OUTCOMES[outcome]
    form = ReviewDecisionForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.access_request_appeal_decide(
                actor=request.user,
                access_request=access_request,
                grant=grant,
                message=form.cleaned_data["message"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            # e.g. 409 when another reviewer decided this request a moment ago
            add_domain_error(form, error)
            status = error.http_status
        else:
            messages.success(request, success)
            return redirect("review:queue")
    return _detail_page(request, access_request, form=form, status=status)


@reviewer_required
def grants(request):
    search = request.GET.get("q", "")
    show_all = request.GET.get("all") == "1"
    grant_list = selectors.grants_for_review(request.user, search=search, active_only=not show_all)
    page = Paginator(grant_list, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "access/review/grants.html", {"page": page, "search": search, "show_all": show_all})


@reviewer_required
@require_http_methods(["GET", "POST"])
def grant_revoke(request, pk):
    grant = selectors.grant_for_review(request.user, pk)
    if grant is None:
        raise Http404(_("No such grant on your models."))
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.grant_revoke(
                actor=request.user,
                grant=grant,
                reason=form.cleaned_data["reason"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request, _("Grant #%(pk)s is revoked; no new download links will be issued.") % {"pk": grant.pk}
            )
            return redirect("review:grants")
    return render(request, "access/review/confirm_revoke.html", {"grant": grant, "form": form})


GRANT_ACTIONS = {
    "suspend": (
        services.grant_suspend,
        gettext_lazy("Grant #{pk} is suspended; downloads are refused with your reason."),
    ),
    "reinstate": (services.grant_reinstate, gettext_lazy("Grant #{pk} is reinstated.")),
}


def _grant_action(request, pk, action):
    grant = selectors.grant_for_review(request.user, pk)
    if grant is None:
        raise Http404(_("No such grant on your models."))
    service, success = GRANT_ACTIONS[action]
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            service(
                actor=request.user,
                grant=grant,
                reason=form.cleaned_data["reason"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, success.format(pk=grant.pk))
            return redirect("review:grants")
    return render(request, "access/review/confirm_grant_action.html", {"grant": grant, "form": form, "action": action})


@reviewer_required
@require_http_methods(["GET", "POST"])
def grant_suspend(request, pk):
    return _grant_action(request, pk, "suspend")


@reviewer_required
@require_http_methods(["GET", "POST"])
def grant_reinstate(request, pk):
    return _grant_action(request, pk, "reinstate")


@role_required(Role.ADMIN)
@require_POST
def reviewer_add(request, pk):
    """An admin assigns a reviewer from outside the model's list to this one request."""
    access_request = selectors.request_for_review(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request in your queue."))
    reviewer = User.objects.filter(email__iexact=request.POST.get("email", "").strip()).first()
    try:
        if reviewer is None:
            raise DomainError(_("No account has that e-mail address."))
        services.access_request_reviewer_add(
            actor=request.user, access_request=access_request, reviewer=reviewer, meta=RequestMeta.from_request(request)
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(email)s may now decide this request.") % {"email": reviewer.email})
    return redirect("review:detail", pk=access_request.pk)
