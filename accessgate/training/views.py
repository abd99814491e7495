from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accessgate.accounts.roles import Role, role_required
from accessgate.audit.context import RequestMeta
from accessgate.core.errors import DomainError
from accessgate.core.forms import add_domain_error
from accessgate.core.http import body_limit
from accessgate.core.i18n import local_date
from accessgate.core.storage import get_storage

from . import selectors, services
from .forms import CertificateDecisionForm, CertificateForm, QuizForm
from .models import Training, TrainingKind, TrainingRecord

reviewer_required = role_required(Role.REVIEWER, Role.ADMIN)


@login_required
def training_list(request):
    valid = selectors.valid_training_ids(request.user)
    return render(
        request,
        "training/list.html",
        {
            "trainings": selectors.active_trainings(),
            "valid": valid,
            "records": selectors.records_of(request.user)[:50],
        },
    )


# A certificate's limit plus room for the form's other fields and the multipart framing.
MULTIPART_OVERHEAD = 64 * 1024


@body_limit(lambda: settings.ACCESSGATE_TRAINING_CERTIFICATE_MAX_BYTES + MULTIPART_OVERHEAD)
@login_required
@require_http_methods(["GET", "POST"])
def detail(request, pk):
    training = get_object_or_404(Training, pk=pk, is_active=True)
    meta = RequestMeta.from_request(request)
    if training.kind == TrainingKind.QUIZ:
        form = QuizForm(request.POST or None, questions=training.questions.all())
    else:
        form = CertificateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            if training.kind == TrainingKind.QUIZ:
                result = services.training_quiz_submit(
                    actor=request.user, training=training, answers=form.answers(), meta=meta
                )
            else:
                upload = form.cleaned_data["certificate"]
                result = services.training_certificate_upload(
                    actor=request.user,
                    training=training,
                    upload=upload,
                    size=upload.size,
                    filename=upload.name,
                    meta=meta,
                )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if result.status == "passed":
                messages.success(
                    request,
                    _("Passed with %(score)s%%; valid until %(expires_at)s.")
                    % {"score": result.score, "expires_at": local_date(result.expires_at)},
                )
            elif result.status == "failed":
                messages.error(
                    request,
                    _("%(score)s%%: not passed (pass mark %(pass_mark)s%%). Try again.")
                    % {"score": result.score, "pass_mark": training.pass_mark},
                )
            else:
                messages.success(request, _("Certificate uploaded; a reviewer will check it."))
            return redirect("training:list")
    return render(request, "training/detail.html", {"training": training, "form": form})


@reviewer_required
def certificates(request):
    return render(request, "training/certificates.html", {"records": selectors.certificates_to_check()[:200]})


@reviewer_required
@require_http_methods(["GET", "POST"])
def check(request, pk):
    result = get_object_or_404(TrainingRecord.objects.select_related("training", "user__profile"), pk=pk)
    if not result.certificate_key:
        raise Http404(_("Not a certificate."))
    form = CertificateDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.training_certificate_decide(
                actor=request.user,
                training_record=result,
                accept=request.POST.get("decision") == "accept",
                completed_on=form.cleaned_data["completed_on"],
                note=form.cleaned_data["note"],
                meta=RequestMeta.from_request(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect("training:certificates")
    return render(request, "training/check.html", {"record": result, "form": form})


@reviewer_required
def certificate_file(request, pk):
    result = get_object_or_404(TrainingRecord, pk=pk)
    if not result.certificate_key:
        raise Http404(_("Not a certificate."))
    response = FileResponse(get_storage().open(result.certificate_key), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{result.pk}.pdf"'
    return response
