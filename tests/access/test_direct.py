"""Direct grants and returning a decided request to pending (the HF access-request API's moves)."""

import pytest

from accessgate.access import services
from accessgate.access.models import AccessRequest
from accessgate.access.rules.downloads import download_check
from accessgate.access.services import access_request_return_to_pending, grant_create_direct
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


def test_direct_grant_audited_and_waits_for_the_application(model, researcher, reviewer, events):
    grant = grant_create_direct(actor=reviewer, user=researcher, model=model)
    assert events() == ["access.request.approved", "grant.created"]
    details = AuditEvent.objects.get(action="grant.created").details
    assert details["status"] == "pending" and details["waiting_for"] == ["your intended use", "your signature"]
    assert grant.request.status == "approved" and not grant.request.agreements.exists()
    with pytest.raises(PolicyNotMet, match="waiting for: your intended use, your signature") as error:
        download_check(researcher, model.releases.get())
    assert error.value.help_url == f"/access/grants/{grant.pk}/accept-licence/"
    ids = set(model.policy.statements.filter(is_active=True).values_list("pk", flat=True))
    with pytest.raises(InvalidTransition):  # not active: nothing to re-accept
        services.agreement_renew(actor=researcher, grant=grant, accepted_statement_ids=ids, typed_name="x")
    grant = services.grant_sign(
        actor=researcher,
        grant=grant,
        intended_use="Red-teaming refusal behaviour for a university safety study.",
        accepted_statement_ids=ids,
        typed_name="Rosalind Franklin",
    )
    assert grant.status == "active"
    assert events()[-2:] == ["access.agreement.signed", "grant.activated"]
    assert download_check(researcher, model.releases.get()) == grant


def test_direct_grant_approves_a_pending_request(model, researcher, reviewer, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    grant = grant_create_direct(actor=reviewer, user=researcher, model=model)
    assert grant.request == request
    assert events()[-2:] == ["access.request.approved", "grant.created"]
    assert download_check(researcher, model.releases.get()) == grant  # signed when applying


def test_direct_grant_refusals(model, researcher, reviewer):
    with pytest.raises(AccessDenied):
        grant_create_direct(actor=factories.UserFactory(role="reviewer"), user=researcher, model=model)
    with pytest.raises(AccessDenied):
        grant_create_direct(actor=reviewer, user=reviewer, model=model)
    grant_create_direct(actor=reviewer, user=researcher, model=model)
    with pytest.raises(Conflict, match="already approved and waiting"):
        grant_create_direct(actor=reviewer, user=researcher, model=model)


def test_return_approved_to_pending_revokes_and_reopens(model, researcher, reviewer, events):
    request = services.access_request_submit(actor=researcher, **application(model))
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    start = len(events())
    reopened = access_request_return_to_pending(actor=reviewer, access_request=request)
    assert events()[start:] == ["grant.revoked", "access.request.reopened"]
    grant.refresh_from_db()
    request.refresh_from_db()
    assert grant.status == "revoked" and request.status == "approved"  # history is not rewritten
    assert reopened.status == "submitted" and reopened.intended_use == request.intended_use
    details = AuditEvent.objects.get(action="access.request.reopened").details
    assert details == {
        "model": model.full_name,
        "previous_request_id": request.pk,
        "previous_status": "approved",
        "revoked_grant_id": grant.pk,
    }
    # Approving the reopened request grants again; it waits for the researcher's signature.
    again = services.access_request_approve(actor=reviewer, access_request=reopened)
    with pytest.raises(PolicyNotMet, match="waiting for: your intended use, your signature"):
        download_check(researcher, model.releases.get())
    assert again.status == "pending"


def test_return_rejected_to_pending(model, researcher, reviewer):
    request = services.access_request_submit(actor=researcher, **application(model))
    services.access_request_reject(actor=reviewer, access_request=request, reason="No.")
    reopened = access_request_return_to_pending(actor=reviewer, access_request=request)
    assert AccessRequest.objects.get(pk=reopened.pk).status == "submitted"


def test_return_to_pending_refusals(model, researcher, reviewer):
    request = services.access_request_submit(actor=researcher, **application(model))
    with pytest.raises(InvalidTransition):
        access_request_return_to_pending(actor=reviewer, access_request=request)
    services.access_request_reject(actor=reviewer, access_request=request, reason="No.")
    with pytest.raises(AccessDenied):
        access_request_return_to_pending(actor=factories.UserFactory(role="reviewer"), access_request=request)
    with pytest.raises(AccessDenied):
        access_request_return_to_pending(actor=researcher, access_request=request)
    access_request_return_to_pending(actor=reviewer, access_request=request)
    with pytest.raises(Conflict):
        access_request_return_to_pending(actor=reviewer, access_request=request)


def test_my_access_points_a_direct_grant_to_the_signing_page(client, model, researcher, reviewer):
    from django.urls import reverse

    grant = grant_create_direct(actor=reviewer, user=researcher, model=model)
    client.force_login(researcher)
    page = client.get(reverse("access:my_access")).content.decode()
    assert f'href="/access/grants/{grant.pk}/accept-licence/">Sign the licence</a>' in page


def test_direct_grant_on_a_request_needing_two_approvals_is_refused(model, licence, researcher, reviewer, events):
    """A direct grant always gives access or says why not: on a submitted request whose policy
    needs a second approval, it refuses (and records nothing) instead of returning no grant."""
    make_policy(model, licence, approvals_required=2)
    request = services.access_request_submit(actor=researcher, **application(model))
    start = len(events())
    with pytest.raises(Conflict, match="second"):
        grant_create_direct(actor=reviewer, user=researcher, model=model)
    assert events()[start:] == []
    request.refresh_from_db()
    assert request.status == "submitted" and not request.reviews.exists()
