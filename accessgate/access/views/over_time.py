"""Access over time: a grant's page and history, renewal, ending a grant, the close-out; the
reviewers' list of close-outs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accessgate.accounts.roles import Role, role_required
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from .. import selectors, services
from ..forms import CloseoutForm, RenewalForm
from ..models import RequestStatus
from ..rules.requirements import requirements_for


def _own_grant_or_404(request, pk):
    grant = selectors.own_grant(request.user, pk)
    if grant is None:
        raise Http404(_("No such grant of yours."))
    return grant


@login_required
def grant_detail(request, pk):
    grant = _own_grant_or_404(request, pk)
    policy = selectors.policy_for(grant.model)
    now = timezone.now()
    return render(
        request,
        "access/grant_detail.html",
        {
            "grant": grant,
            "policy": policy,
            "history": selectors.grant_history(grant),
            "renewals": grant.renewals.order_by("-submitted_at"),
            "renewal_refusal": services.renewal_refusal(grant, policy, now=now) if policy else "",
            "renewal_opens_at": services.renewal_opens_at(grant, policy) if policy else None,
            "closeout": getattr(grant, "closeout", None),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def renew(request, pk):
    grant = _own_grant_or_404(request, pk)
    policy = selectors.policy_for(grant.model)
    refusal = services.renewal_refusal(grant, policy, now=timezone.now()) if policy else _("Not open for renewal.")
    if refusal:
        messages.info(request, refusal)
        return redirect("access:grant_detail", pk=grant.pk)
    form = RenewalForm(
        request.POST or None,
        initial={"intended_use": grant.request.intended_use},
        policy=policy,
        statements=selectors.active_statements(policy),
    )
    if request.method == "POST" and form.is_valid():
        try:
            renewal = services.renewal_submit(
                actor=request.user,
                grant=grant,
                progress_report=form.cleaned_data.get("progress_report", ""),
                intended_use=form.cleaned_data["intended_use"],
                accepted_statement_ids=form.accepted_statement_ids(),
                typed_name=form.cleaned_data["typed_name"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if renewal.status == RequestStatus.APPROVED:
                messages.success(request, _("Your access is renewed."))
            else:
                messages.success(request, _("Your renewal is submitted. Your downloads continue while it is reviewed."))
            return redirect("access:grant_detail", pk=grant.pk)
    return render(
        request,
        "access/renew.html",
        {"grant": grant, "policy": policy, "form": form, "requirements": requirements_for(request.user, policy)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def grant_end(request, pk):
    grant = _own_grant_or_404(request, pk)
    if not grant.is_active:
        messages.info(request, _("This grant has already ended."))
        return redirect("access:grant_detail", pk=grant.pk)
    if request.method == "POST":
        grant = services.grant_end(actor=request.user, grant=grant, meta=RequestMeta.from_request(request))
        messages.success(request, _("Your access to %(full_name)s has ended.") % {"full_name": grant.model.full_name})
        closeout = getattr(grant, "closeout", None)
        if closeout is not None:
            return redirect("access:closeout", pk=closeout.pk)
        return redirect("access:grant_detail", pk=grant.pk)
    return render(request, "access/confirm_end.html", {"grant": grant})


@login_required
@require_http_methods(["GET", "POST"])
def closeout(request, pk):
    closeout = selectors.own_closeout(request.user, pk)
    if closeout is None:
        raise Http404(_("No such close-out of yours."))
    form = CloseoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.closeout_file(
                actor=request.user,
                closeout=closeout,
                deleted_everywhere=form.cleaned_data["deleted_everywhere"],
                systems=form.cleaned_data["systems"],
                remaining=form.cleaned_data["remaining"],
                typed_name=form.cleaned_data["typed_name"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Thank you; your close-out is filed."))
            return redirect("access:closeout", pk=closeout.pk)
    return render(
        request,
        "access/closeout.html",
        {"closeout": closeout, "form": form, "overdue": closeout.is_overdue()},
    )


@role_required(Role.REVIEWER, Role.ADMIN)
def review_closeouts(request):
    overdue_only = request.GET.get("overdue") == "1"
    return render(
        request,
        "access/review/closeouts.html",
        {
            "closeouts": selectors.closeouts_for_review(request.user, overdue_only=overdue_only)[:200],
            "overdue_only": overdue_only,
            "now": timezone.now(),
        },
    )
