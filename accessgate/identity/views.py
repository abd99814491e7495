from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accessgate.audit.context import RequestMeta, client_ip
from accessgate.core.errors import DomainError
from accessgate.core.json_body import check_json_bytes
from accessgate.core.ratelimit import check_rate

from . import selectors, services
from .models import IdentityVerification, VerificationStatus


@never_cache
@login_required
def status(request):
    latest = selectors.latest_verification(request.user)
    active = selectors.active_verification(request.user)
    context = {
        "active": active,
        "can_start": active is None or (active.expires_at - timezone.now()).days <= 30,
        "latest": latest,
        "history": selectors.verifications_of(request.user)[:10],
        "advice": services.advice_for(latest.last_error_code) if latest and latest.last_error_code else "",
        "provider": settings.ACCESSGATE_IDENTITY_PROVIDER,
    }
    template = "identity/_status.html" if request.headers.get("HX-Request") else "identity/status.html"
    return render(request, template, context)


@login_required
@require_POST
def start(request):
    url = services.verification_start(
        actor=request.user,
        return_url=request.build_absolute_uri(reverse("identity:returned")),
        meta=RequestMeta.from_request(request),
    )
    return HttpResponseRedirect(url)


@never_cache
@login_required
def returned(request):
    """Where the provider sends the researcher back. We never trust query parameters here:
    the state is fetched from the provider's API."""
    latest = selectors.latest_verification(request.user)
    if (
        latest
        and latest.provider == "stripe"
        and latest.status in (VerificationStatus.PENDING, VerificationStatus.PROCESSING)
    ):
        services.verification_sync_later(latest.pk)
    return redirect("identity:status")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's webhook: the signature is checked before anything in the body is read."""
    try:
        check_rate(f"webhook:{client_ip(request)}", settings.ACCESSGATE_WEBHOOK_RATE_LIMIT, "Too many webhook calls.")
        check_json_bytes(request.body)  # size and depth only: nothing in it is interpreted yet
        outcome = services.stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except DomainError as error:
        return HttpResponse(error.message, status=error.http_status, content_type="text/plain")
    return HttpResponse(outcome, content_type="text/plain")


@login_required
@require_http_methods(["GET", "POST"])
def dev_session(request, session_id):
    """The development provider's page (DEBUG only): simulate a passed or failed check."""
    if settings.ACCESSGATE_IDENTITY_PROVIDER != "dev" or not settings.DEBUG:
        raise Http404(_("The development identity provider is switched off."))
    verification = IdentityVerification.objects.filter(provider="dev", session_id=session_id, user=request.user).first()
    if verification is None:
        raise Http404(_("No such verification of yours."))
    if request.method == "POST":
        services.dev_complete(
            actor=request.user,
            session_id=session_id,
            outcome="verified" if request.POST.get("outcome") == "verified" else "failed",
            meta=RequestMeta.from_request(request),
        )
        return redirect("identity:status")
    return render(request, "identity/dev_session.html", {"verification": verification})
