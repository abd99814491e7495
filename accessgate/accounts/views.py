from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accessgate.audit.context import RequestMeta
from accessgate.catalog.selectors import token_model_choices
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error
from accessgate.identity.selectors import active_verification

from .forms import ProfileForm, TokenForm
from .mfa import session_passed_mfa
from .selectors import (
    has_mfa,
    profile_for,
    token_scope_choices,
    tokens_of,
    verified_orcid,
)
from .services import profile_update, token_create, token_revoke


@login_required
def profile_edit(request):
    profile = profile_for(request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    next_url = request.GET.get("next", "")
    if request.method == "POST" and form.is_valid():
        profile_update(
            actor=request.user, user=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
        )
        messages.success(request, _("Your profile is saved."))
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            return redirect(next_url)
        return redirect("accounts:profile")

    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "profile": profile,
            "next": next_url,
            "identity": active_verification(request.user),
            "verified_orcid": verified_orcid(request.user),
            "orcid_enabled": bool(settings.ACCESSGATE_ORCID_CLIENT_ID),
            "has_mfa": has_mfa(request.user),
        },
    )


def _token_form(request, data=None):
    return TokenForm(
        data,
        max_days=settings.ACCESSGATE_TOKEN_MAX_DAYS,
        default_days=settings.ACCESSGATE_TOKEN_DEFAULT_DAYS,
        scope_choices=token_scope_choices(request.user),
        model_choices=token_model_choices(request.user),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = _token_form(request, request.POST or None)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        try:
            created, secret = token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
                scopes=form.cleaned_data["scopes"] or ["download"],
                models=form.cleaned_data["models"],
                mfa_passed=session_passed_mfa(request),
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            form = _token_form(request)
    # The secret is rendered in this one response only; it is never stored or shown again.
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": tokens_of(request.user).prefetch_related("models"),
            "created": created,
            "secret": secret,
            "mfa_passed": session_passed_mfa(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request, pk):
    token = tokens_of(request.user).filter(pk=pk, revoked_at__isnull=True).first()
    if token is None:
        raise Http404(_("No such active token of yours."))
    if request.method == "POST":
        token_revoke(actor=request.user, token=token, meta=RequestMeta.from_request(request))
        messages.success(request, _("Token “%(name)s” is revoked; it stops working at once.") % {"name": token.name})
        return redirect("accounts:tokens")
    return render(request, "accounts/confirm_token_revoke.html", {"token": token})
