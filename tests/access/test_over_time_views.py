"""The pages of access over time: renew, end my access, close-out, the reviewers' close-outs."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import AccessRequest, Closeout, Grant, GrantStatus, RequestKind
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


def approved_grant(user, model, reviewer) -> Grant:
    request = services.access_request_submit(actor=user, **application(model))
    return services.access_request_approve(actor=reviewer, access_request=request)


def statement_fields(model) -> dict:
    return {f"statement_{s.pk}": "on" for s in model.policy.statements.filter(is_active=True)}


def test_renew_through_the_pages_and_the_review_queue(client, researcher, reviewer, model):
    grant = approved_grant(researcher, model, reviewer)
    first_expiry = grant.expires_at
    client.force_login(researcher)
    page = client.get(reverse("access:my_access")).content.decode()
    assert reverse("access:grant_detail", args=[grant.pk]) in page
    page = client.get(reverse("access:grant_detail", args=[grant.pk])).content.decode()
    assert reverse("access:renew", args=[grant.pk]) in page and "Original approval" in page
    response = client.post(
        reverse("access:renew", args=[grant.pk]),
        {"progress_report": "", "intended_use": grant.request.intended_use, "typed_name": "Rosalind Franklin"}
        | statement_fields(model),
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(
        reverse("access:renew", args=[grant.pk]),
        {
            "progress_report": "Two papers; the benchmark is public.",
            "intended_use": grant.request.intended_use,
            "typed_name": "Rosalind Franklin",
        }
        | statement_fields(model),
    )
    assert response.status_code == 302
    renewal = AccessRequest.objects.get(kind=RequestKind.RENEWAL)
    client.force_login(reviewer)
    page = client.get(reverse("review:detail", args=[renewal.pk])).content.decode()
    assert "Renewal of grant #" in page and "Two papers; the benchmark is public." in page
    response = client.post(reverse("review:decide", args=[renewal.pk, "approve"]), {"message": ""})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.expires_at == first_expiry + timedelta(days=30)
    client.force_login(researcher)
    page = client.get(reverse("access:grant_detail", args=[grant.pk])).content.decode()
    assert "Original approval" in page and "Renewal" in page


def test_renew_outside_the_window_redirects_with_the_reason(client, researcher, reviewer, model):
    make_policy(model, model.policy.license, renewal_window_days=3)
    grant = approved_grant(researcher, model, reviewer)
    client.force_login(researcher)
    response = client.get(reverse("access:renew", args=[grant.pk]), follow=True)
    assert "You can renew from" in response.content.decode()


def test_end_my_access_then_file_the_closeout(client, researcher, reviewer, model):
    make_policy(model, model.policy.license, require_closeout=True)
    grant = approved_grant(researcher, model, reviewer)
    client.force_login(researcher)
    page = client.get(reverse("access:grant_end", args=[grant.pk])).content.decode()
    assert "close-out attestation" in page
    response = client.post(reverse("access:grant_end", args=[grant.pk]))
    closeout = Closeout.objects.get(grant=grant)
    assert response["Location"] == reverse("access:closeout", args=[closeout.pk])
    grant.refresh_from_db()
    assert grant.status == GrantStatus.ENDED
    assert "Close-outs to file" in client.get(reverse("access:my_access")).content.decode()
    response = client.post(
        reverse("access:closeout", args=[closeout.pk]),
        {"systems": "lab-gpu-01", "deleted_everywhere": "no", "remaining": "", "typed_name": "Rosalind Franklin"},
    )
    assert "Say what remains" in response.content.decode()
    response = client.post(
        reverse("access:closeout", args=[closeout.pk]),
        {"systems": "lab-gpu-01", "deleted_everywhere": "yes", "typed_name": "Rosalind Franklin"},
        follow=True,
    )
    assert "Deleted from every system listed." in response.content.decode()
    closeout.refresh_from_db()
    assert closeout.status == "filed"


def test_reviewers_see_overdue_closeouts_of_their_models_only(client, researcher, reviewer, model):
    make_policy(model, model.policy.license, require_closeout=True, closeout_blocks_requests=True)
    grant = approved_grant(researcher, model, reviewer)
    services.grant_end(actor=researcher, grant=grant)
    Closeout.objects.filter(grant=grant).update(due_at=timezone.now() - timedelta(days=1))
    client.force_login(reviewer)
    page = client.get(reverse("review:closeouts") + "?overdue=1").content.decode()
    assert "Overdue" in page and researcher.email in page
    client.force_login(factories.UserFactory(role="reviewer"))
    assert researcher.email not in client.get(reverse("review:closeouts")).content.decode()
    # The applicant's checklist names the block, and applying is refused with it.
    client.force_login(researcher)
    url = reverse("apply:form", args=[model.namespace, model.name])
    page = client.get(url).content.decode()
    assert "No overdue close-out attestation" in page
    response = client.post(
        url,
        {"intended_use": "x" * 40, "typed_name": "Rosalind Franklin"} | statement_fields(model),
    )
    assert "File the overdue close-out" in response.content.decode()
    assert not AccessRequest.objects.filter(user=researcher, status="submitted").exists()
