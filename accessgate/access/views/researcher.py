from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accessgate.accounts.selectors import profile_for
from accessgate.audit.context import RequestMeta
from accessgate.audit.receipts import receipt_response
from accessgate.catalog.models import Model
from accessgate.catalog.selectors import model_by_name
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error

from .. import selectors, services
from ..forms import AppealForm, ApplicationForm, SignatureForm
from ..models import GrantStatus, RequestStatus
from ..rules.downloads import active_grant
from ..rules.requirements import requirements_for, waiting_label


def _model_or_404(request, namespace: str, name: str) -> Model:
    model = model_by_name(namespace, name, user=request.user)
    if model is None:
        raise Http404(_("No model with this name."))
    return model


def _own_request_or_404(request, pk):
    access_request = selectors.own_request(request.user, pk)
    if access_request is None:
        raise Http404(_("No such request of yours."))
    return access_request


def _application_page(request, *, model, policy, form, access_request=None, collection=None):
    return render(
        request,
        "access/apply.html",
        {
            "model": model,
            "policy": policy,
            "form": form,
            "access_request": access_request,
            "collection": collection or (access_request.collection if access_request else None),
            "outlook": selectors.collection_outlook(request.user, collection) if collection else None,
            "requirements": requirements_for(request.user, policy),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply_collection(request, namespace, name):
    """One application for every model of a collection, on its lead model's policy."""
    collection = selectors.collection_by_name(namespace, name)
    if collection is None:
        raise Http404(_("No such collection."))
    return apply(request, collection.lead.namespace, collection.lead.name, collection=collection)


@login_required
@require_http_methods(["GET", "POST"])
def apply(request, namespace, name, collection=None):
    model = _model_or_404(request, namespace, name)
    policy = selectors.policy_for(model)
    if policy is None:
        messages.error(request, _("%(full_name)s is not open for applications yet.") % {"full_name": model.full_name})
        return redirect("catalog:model_detail", namespace=model.namespace, name=model.name)
    if active_grant(request.user, model):
        messages.info(request, _("You already have access to %(full_name)s.") % {"full_name": model.full_name})
        return redirect("catalog:model_detail", namespace=model.namespace, name=model.name)
    existing = selectors.open_request(request.user, model)
    if existing:
        messages.info(request, _("You already have an open request for this model."))
        return redirect("access:request_detail", pk=existing.pk)
    profile = profile_for(request.user)
    if not profile.is_complete:
        messages.info(request, _("Please complete your profile first; every application uses it."))
        return redirect(f"{reverse('accounts:profile')}?next={request.path}")

    if collection is not None:  # one form for every member: the union of their statements and questions
        statements, questions = selectors.collection_statements(collection), selectors.collection_questions(collection)
    else:
        statements, questions = selectors.active_statements(policy), None
    form = ApplicationForm(request.POST or None, policy=policy, statements=statements, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            access_request = services.access_request_submit(
                actor=request.user,
                model=model,
                intended_use=form.cleaned_data["intended_use"],
                accepted_statement_ids=form.accepted_statement_ids(),
                typed_name=form.cleaned_data["typed_name"],
                answers=form.answers(),
                collection=collection,
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if policy.require_signoff:
                messages.success(request, _("Your request is submitted. Now name your institution's signing official."))
                return redirect("access:signoff", pk=access_request.pk)
            if access_request.status == RequestStatus.APPROVED:
                messages.success(request, _("Access to %(full_name)s is granted.") % {"full_name": model.full_name})
            else:
                messages.success(request, _("Your request is submitted. We will e-mail you when it is reviewed."))
            return redirect("access:request_detail", pk=access_request.pk)
    return _application_page(request, model=model, policy=policy, form=form, collection=collection)


@login_required
def my_access(request):
    grants = selectors.grants_of(request.user)
    if any(grant.status == GrantStatus.PENDING for grant in grants):
        # A grant waiting for requirements starts as soon as they hold; check now, not at the next sweep.
        services.grants_activate_ready(user=request.user, meta=RequestMeta.from_request(request))
        grants = selectors.grants_of(request.user)
    return render(
        request,
        "access/my_access.html",
        {
            "requests": selectors.requests_of(request.user),
            "grants": grants,
            "closeouts_due": selectors.closeouts_of(request.user).filter(status="due"),
        },
    )


def _request_page(request, access_request, *, appeal_form=None, status=200):
    return render(
        request,
        "access/request_detail.html",
        {
            "access_request": access_request,
            "reapply_after": selectors.reapply_after(request.user, access_request.model),
            "appeal": selectors.appeal_of(access_request),
            "appeal_form": appeal_form or AppealForm(),
        },
        status=status,
    )


@login_required
def request_detail(request, pk):
    return _request_page(request, _own_request_or_404(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def request_appeal(request, pk):
    access_request = _own_request_or_404(request, pk)
    if request.method == "GET":
        return redirect("access:request_detail", pk=pk)
    form = AppealForm(request.POST)
    if form.is_valid():
        try:
            services.access_request_appeal(
                actor=request.user,
                access_request=access_request,
                message=form.cleaned_data["message"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your appeal is sent; a reviewer who did not reject your request decides it."))
            return redirect("access:request_detail", pk=pk)
    return _request_page(request, access_request, appeal_form=form, status=400)


@login_required
@require_http_methods(["GET"])
def request_receipt(request, pk):
    """The signed receipt of the applicant's latest agreement (what they signed, and when)."""
    access_request = _own_request_or_404(request, pk)
    event = selectors.agreement_event(access_request)
    if event is None:
        raise Http404(_("No signed agreement on this request."))
    return receipt_response(request, event)


@login_required
@require_http_methods(["GET", "POST"])
def request_withdraw(request, pk):
    access_request = _own_request_or_404(request, pk)
    if request.method == "POST":
        services.access_request_withdraw(
            actor=request.user, access_request=access_request, meta=RequestMeta.from_request(request)
        )
        messages.success(request, _("Your request is withdrawn."))
        return redirect("access:request_detail", pk=pk)
    return render(request, "access/confirm_withdraw.html", {"access_request": access_request})


@login_required
@require_http_methods(["GET", "POST"])
def request_resubmit(request, pk):
    access_request = _own_request_or_404(request, pk)
    if access_request.status != RequestStatus.CHANGES_REQUESTED:
        messages.info(request, _("Only a request sent back for changes can be edited."))
        return redirect("access:request_detail", pk=pk)
    model = access_request.model
    policy = selectors.policy_for(model)
    form = ApplicationForm(
        request.POST or None,
        initial={"intended_use": access_request.intended_use, **selectors.last_answers(access_request)},
        policy=policy,
        statements=selectors.active_statements(policy),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.access_request_resubmit(
                actor=request.user,
                access_request=access_request,
                intended_use=form.cleaned_data["intended_use"],
                accepted_statement_ids=form.accepted_statement_ids(),
                typed_name=form.cleaned_data["typed_name"],
                answers=form.answers(),
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Your request is resubmitted for review."))
            return redirect("access:request_detail", pk=pk)
    return _application_page(request, model=model, policy=policy, form=form, access_request=access_request)


@login_required
@require_http_methods(["GET", "POST"])
def licence_accept(request, pk):
    """Sign a model's new licence version under an active grant, or complete and sign the
    application a waiting grant needs (a direct grant: intended use, questions, signature)."""
    grant = selectors.own_grant_to_sign(request.user, pk)
    if grant is None:
        raise Http404(_("No such active grant of yours."))
    policy = selectors.policy_for(grant.model)
    first = grant.status == GrantStatus.PENDING
    form_class = ApplicationForm if first else SignatureForm
    initial = {"intended_use": grant.request.intended_use, **selectors.last_answers(grant.request)} if first else None
    statements = selectors.active_statements(policy)
    form = form_class(request.POST or None, initial=initial, policy=policy, statements=statements)
    if request.method == "POST" and form.is_valid():
        meta = RequestMeta.from_request(request)
        try:
            if first:
                grant = services.grant_sign(
                    actor=request.user,
                    grant=grant,
                    intended_use=form.cleaned_data["intended_use"],
                    accepted_statement_ids=form.accepted_statement_ids(),
                    typed_name=form.cleaned_data["typed_name"],
                    answers=form.answers(),
                    meta=meta,
                )
            else:
                services.agreement_renew(
                    actor=request.user,
                    grant=grant,
                    accepted_statement_ids=form.accepted_statement_ids(),
                    typed_name=form.cleaned_data["typed_name"],
                    meta=meta,
                )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if first and grant.status == GrantStatus.PENDING:
                messages.info(request, waiting_label(grant.waiting_for, sentence=True) + ".")
            else:
                messages.success(
                    request,
                    _("Thank you; you accepted %(license)s. You can download now.") % {"license": policy.license},
                )
            return redirect("access:my_access")
    return render(
        request, "access/licence_accept.html", {"grant": grant, "policy": policy, "form": form, "first": first}
    )
