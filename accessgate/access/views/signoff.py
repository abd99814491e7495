"""Institutional sign-off: the applicant names the official; the official's public page,
which the signed single-use link opens (no account needed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from .. import selectors, services
from ..forms import CountersignForm, DeclineForm, SignoffOfficialForm
from ..models import SignoffStatus


@login_required
@require_http_methods(["GET", "POST"])
def name_official(request, pk):
    access_request = selectors.own_request(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request of yours."))
    signoffs = list(access_request.signoffs.order_by("-sent_at"))
    pending = next((s for s in signoffs if s.status == SignoffStatus.PENDING), None)
    form = SignoffOfficialForm(request.POST if request.POST.get("action") != "resend" else None)
    if request.method == "POST":
        meta = RequestMeta.from_request(request)
        if request.POST.get("action") == "resend" and pending is not None:
            services.signoff_resend(actor=request.user, signoff=pending, meta=meta)
            messages.success(
                request,
                _("A new link is on its way to %(official_email)s; the old one no longer works.")
                % {"official_email": pending.official_email},
            )
            return redirect("access:signoff", pk=pk)
        if form.is_valid():
            try:
                signoff = services.signoff_request(
                    actor=request.user, access_request=access_request, **form.cleaned_data, meta=meta
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("We e-mailed %(official_email)s a link to countersign.")
                    % {"official_email": signoff.official_email},
                )
                return redirect("access:signoff", pk=pk)
    return render(
        request,
        "access/signoff_name.html",
        {"access_request": access_request, "signoffs": signoffs, "pending": pending, "form": form},
    )


@require_http_methods(["GET", "POST"])
def sign(request, token):
    """Public, token-gated: a bad, replaced, used or expired link gets the domain error's page."""
    signoff = services.signoff_by_token(token)
    countersign, decline = CountersignForm(), DeclineForm()
    if request.method == "POST":
        meta = RequestMeta.from_request(request)
        if request.POST.get("action") == "decline":
            decline = DeclineForm(request.POST)
            if decline.is_valid():
                try:
                    services.signoff_decline(token=token, reason=decline.cleaned_data["reason"], meta=meta)
                except DomainError as error:
                    add_domain_error(decline, error)
                else:
                    return render(request, "access/signoff_done.html", {"declined": True})
        else:
            countersign = CountersignForm(request.POST)
            if countersign.is_valid():
                try:
                    services.signoff_countersign(
                        token=token, typed_name=countersign.cleaned_data["typed_name"], meta=meta
                    )
                except DomainError as error:
                    add_domain_error(countersign, error)
                else:
                    return render(request, "access/signoff_done.html", {"declined": False})
    access_request = signoff.request
    return render(
        request,
        "access/signoff_sign.html",
        {
            "signoff": signoff,
            "access_request": access_request,
            "profile": access_request.user.profile,
            "agreement": signoff.agreement,
            "countersign": countersign,
            "decline": decline,
        },
    )
