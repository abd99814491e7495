"""The console's model pages: the list, a new draft, card, policy, licence, reviewers, publishing."""

import difflib

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accessgate.access import selectors as access_selectors
from accessgate.access import services as access_services
from accessgate.access.rules.staff import can_publish, publishable_models
from accessgate.accounts.roles import Role, has_role, role_required
from accessgate.audit.context import RequestMeta
from accessgate.catalog import services as catalog_services
from accessgate.catalog.markdown import render_markdown
from accessgate.catalog.models import Model
from accessgate.catalog.selectors import model_by_name
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from .. import services
from ..forms import CardForm, LicenceForm, NewModelForm, PolicyForm, PublishersForm, ReviewersForm

publisher_required = role_required(Role.PUBLISHER, Role.ADMIN)


def console_model(request, namespace: str, name: str) -> Model:
    """The model, if this user may open its console (404 otherwise: drafts stay unknown)."""
    model = model_by_name(namespace, name, include_drafts=True)
    if model is None or not can_publish(request.user, model):
        raise Http404(_("No model of yours with this name."))
    return model


def page(request, model: Model, section: str, context: dict, *, status: int = 200):
    return render(
        request,
        f"publishing/{section}.html",
        {"model": model, "section": section, "missing": services.missing_for_publishing(model), **context},
        status=status,
    )


@publisher_required
def console_list(request):
    models = publishable_models(request.user).select_related("policy").order_by("namespace", "name")
    return render(request, "publishing/list.html", {"models": models})


@publisher_required
@require_http_methods(["GET", "POST"])
def model_new(request):
    form = NewModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create_draft(
                actor=request.user, meta=RequestMeta.from_request(request), **form.cleaned_data
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Draft %(full_name)s created. Only you, its reviewers and admins see it.")
                % {"full_name": model.full_name},
            )
            return redirect("publish:card", namespace=model.namespace, name=model.name)
    return render(request, "publishing/new.html", {"form": form}, status=400 if form.errors else 200)


@publisher_required
def console(request, namespace, name):
    model = console_model(request, namespace, name)
    return page(request, model, "overview", {"policy": access_selectors.policy_for(model)})


@publisher_required
@require_http_methods(["GET", "POST"])
def card(request, namespace, name):
    model = console_model(request, namespace, name)
    initial = {f: getattr(model, f) for f in ("display_name", "summary", "card_markdown")}
    form = CardForm(request.POST or None, initial=initial)
    preview = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            preview = render_markdown(form.cleaned_data["card_markdown"])
        else:
            try:
                catalog_services.model_update(
                    actor=request.user, model=model, meta=RequestMeta.from_request(request), **form.cleaned_data
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Card saved."))
                return redirect("publish:card", namespace=model.namespace, name=model.name)
    return page(request, model, "card", {"form": form, "preview": preview}, status=400 if form.errors else 200)


@publisher_required
@require_POST
def card_preview(request, namespace, name):
    """The card rendered and sanitised exactly as the public page will show it (htmx fragment)."""
    console_model(request, namespace, name)
    return HttpResponse(render_markdown(request.POST.get("card_markdown", "")))


@publisher_required
@require_http_methods(["GET", "POST"])
def policy(request, namespace, name):
    model = console_model(request, namespace, name)
    current = access_selectors.policy_for(model)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        terms = form.settings(current)
        problems = terms.problems()
        for problem in problems:
            add_domain_error(form, problem)
        if not problems:
            try:
                access_services.policy_set(
                    actor=request.user, model=model, terms=terms, meta=RequestMeta.from_request(request)
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("Policy saved.") if current else _("Policy created."))
                return redirect("publish:policy", namespace=model.namespace, name=model.name)
    return page(request, model, "policy", {"form": form, "policy": current}, status=400 if form.errors else 200)


@publisher_required
@require_http_methods(["GET", "POST"])
def licence(request, namespace, name):
    """A new licence version: first a preview (diff, immutability, holders to re-accept), then
    on confirmation it is published and the policy switches to it."""
    model = console_model(request, namespace, name)
    current = access_selectors.policy_for(model)
    current_licence = current.license if current else None
    initial = {"name": current_licence.name, "text": current_licence.text} if current_licence else {}
    form = LicenceForm(request.POST or None, initial=initial)
    context = {"form": form, "policy": current, "current": current_licence}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "confirm" not in request.POST:
            before = current_licence.text.splitlines() if current_licence else []
            context["diff"] = list(
                difflib.unified_diff(
                    before, data["text"].splitlines(), str(current_licence or "nothing"), "new version", lineterm=""
                )
            )
            # Every active holder signed another version than the new one: all must accept it.
            context["holders"] = access_services.holders_to_reaccept(model, None).count() if current else 0
            context["confirming"] = True
            return page(request, model, "licence", context)
        try:
            meta = RequestMeta.from_request(request)
            new = catalog_services.license_publish(actor=request.user, meta=meta, **data)
            holders = (
                access_services.policy_licence_switch(actor=request.user, model=model, license=new, meta=meta)
                if current
                else 0
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if current:
                messages.success(
                    request,
                    _("%(new)s published and in force; %(holders)s holder(s) were e-mailed to accept it.")
                    % {"new": new, "holders": holders},
                )
            else:
                messages.success(request, _("%(new)s published; choose it in the policy.") % {"new": new})
            return redirect("publish:licence", namespace=model.namespace, name=model.name)
    return page(request, model, "licence", context, status=400 if form.errors else 200)


@publisher_required
@require_http_methods(["GET", "POST"])
def reviewers(request, namespace, name):
    model = console_model(request, namespace, name)
    is_admin = has_role(request.user, Role.ADMIN)
    form = ReviewersForm(request.POST or None, initial={"reviewers": model.reviewers.all()}, prefix="r")
    publishers_form = (
        PublishersForm(request.POST or None, initial={"publishers": model.publishers.all()}, prefix="p")
        if is_admin
        else None
    )
    if request.method == "POST" and form.is_valid() and (publishers_form is None or publishers_form.is_valid()):
        meta = RequestMeta.from_request(request)
        try:
            catalog_services.model_update(
                actor=request.user, model=model, reviewers=list(form.cleaned_data["reviewers"]), meta=meta
            )
            if publishers_form is not None:
                catalog_services.model_publishers_set(
                    actor=request.user, model=model, publishers=publishers_form.cleaned_data["publishers"], meta=meta
                )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("publish:reviewers", namespace=model.namespace, name=model.name)
    return page(request, model, "reviewers", {"form": form, "publishers_form": publishers_form})


@publisher_required
@require_POST
def publish(request, namespace, name):
    model = console_model(request, namespace, name)
    try:
        services.model_publish(actor=request.user, model=model, meta=RequestMeta.from_request(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(full_name)s is published: listed in the catalog and open for applications.")
            % {"full_name": model.full_name},
        )
    return redirect("publish:console", namespace=model.namespace, name=model.name)
