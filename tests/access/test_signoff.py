"""Institutional sign-off: the countersignature unblocks review, a decline rejects, links are
single-use, expire, and rotate on resend."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import RequestStatus, Signoff
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import InvalidTransition, NotFound, PolicyNotMet, ValidationFailed
from accessgate.notifications.models import Email
from tests.support.applications import application, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def signoff_model(model):
    make_policy(model, model.policy.license, require_signoff=True, signoff_domains=["uni.edu"])
    return model


def ask(researcher, request, email="dean@cs.uni.edu"):
    return services.signoff_request(
        actor=researcher, access_request=request, official_name="Dean Jones", official_email=email
    )


def test_countersignature_unblocks_review(researcher, reviewer, signoff_model, events):
    request = services.access_request_submit(actor=researcher, **application(signoff_model))
    with pytest.raises(PolicyNotMet, match="countersignature"):
        services.access_request_approve(actor=reviewer, access_request=request)
    start = len(events())
    signoff = ask(researcher, request)
    mail = Email.objects.get(to=["dean@cs.uni.edu"])
    token = services.signoff_token(signoff)
    assert reverse("access:signoff_sign", args=[token]) in mail.body_text
    with pytest.raises(ValidationFailed, match="Dean Jones"):
        services.signoff_countersign(token=token, typed_name="Someone Else")
    services.signoff_countersign(token=token, typed_name="dean  jones")
    signoff.refresh_from_db()
    assert signoff.status == "signed" and len(signoff.agreement_sha256) == 64
    assert signoff.agreement == request.agreements.get()
    assert events()[start:] == ["access.signoff.requested", "access.signoff.signed"]
    event = AuditEvent.objects.get(action="access.signoff.signed")
    assert event.actor is None and event.details["agreement_sha256"] == signoff.agreement_sha256
    services.access_request_approve(actor=reviewer, access_request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    with pytest.raises(InvalidTransition, match="already used"):
        services.signoff_countersign(token=token, typed_name="Dean Jones")


def test_auto_gating_approves_once_countersigned(researcher, signoff_model):
    make_policy(signoff_model, signoff_model.policy.license, gating="auto", require_signoff=True)
    request = services.access_request_submit(actor=researcher, **application(signoff_model))
    assert request.status == RequestStatus.SUBMITTED  # waits for the official
    signoff = ask(researcher, request, email="dean@uni.edu")
    services.signoff_countersign(token=services.signoff_token(signoff), typed_name="Dean Jones")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.grant.status == "active"


def test_a_decline_rejects_the_request(researcher, signoff_model, events):
    request = services.access_request_submit(actor=researcher, **application(signoff_model))
    signoff = ask(researcher, request)
    start = len(events())
    with pytest.raises(ValidationFailed):
        services.signoff_decline(token=services.signoff_token(signoff), reason=" ")
    services.signoff_decline(token=services.signoff_token(signoff), reason="Not one of our staff.")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED
    assert "Not one of our staff." in request.reviewer_message
    assert events()[start:] == ["access.signoff.declined", "access.request.rejected"]
    assert AuditEvent.objects.get(action="access.request.rejected").details["by_signing_official"] is True


def test_the_official_must_be_at_an_allowed_domain_and_not_the_applicant(researcher, signoff_model):
    request = services.access_request_submit(actor=researcher, **application(signoff_model))
    with pytest.raises(ValidationFailed, match="uni.edu"):
        ask(researcher, request, email="dean@gmail.com")
    make_policy(signoff_model, signoff_model.policy.license, require_signoff=True)
    with pytest.raises(ValidationFailed, match="other than you"):
        ask(researcher, request, email=researcher.email)
    assert not Signoff.objects.exists()


def test_resend_rotates_the_link_and_expiry_is_enforced(researcher, signoff_model, events):
    request = services.access_request_submit(actor=researcher, **application(signoff_model))
    signoff = ask(researcher, request)
    old = services.signoff_token(signoff)
    Signoff.objects.filter(pk=signoff.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="expired"):
        services.signoff_by_token(old)
    services.signoff_resend(actor=researcher, signoff=signoff)
    signoff.refresh_from_db()
    assert signoff.sent_count == 2 and signoff.expires_at > timezone.now()
    with pytest.raises(NotFound, match="newer one"):
        services.signoff_by_token(old)
    assert services.signoff_by_token(services.signoff_token(signoff)) == signoff
    with pytest.raises(NotFound):
        services.signoff_by_token("garbage")
    assert events()[-1] == "access.signoff.resent"
    # Naming someone else replaces the pending sign-off.
    replacement = ask(researcher, request, email="head@uni.edu")
    signoff.refresh_from_db()
    assert (signoff.status, replacement.status) == ("replaced", "pending")


def test_the_official_pages(client, researcher, signoff_model):
    client.force_login(researcher)
    url = reverse("apply:form", args=[signoff_model.namespace, signoff_model.name])
    fields = {f"statement_{s.pk}": "on" for s in signoff_model.policy.statements.all()}
    response = client.post(url, {"intended_use": "x" * 40, "typed_name": "Rosalind Franklin"} | fields)
    request = researcher.access_requests.get()
    assert response["Location"] == reverse("access:signoff", args=[request.pk])
    response = client.post(response["Location"], {"official_name": "Dean Jones", "official_email": "dean@uni.edu"})
    assert response.status_code == 302
    signoff = Signoff.objects.get()
    client.logout()
    link = reverse("access:signoff_sign", args=[services.signoff_token(signoff)])
    page = client.get(link).content.decode()
    assert "Countersign an application" in page and "x" * 40 in page
    response = client.post(link, {"action": "sign", "typed_name": "Dean Jones"})
    assert "Your countersignature is recorded" in response.content.decode()
    assert client.get(link).status_code == 409
