"""The cases of the one door, replayed through the surfaces they were found on (the pages, the
REST API, the HF API as huggingface_hub calls it): each ends in a waiting grant or a clear
refusal naming the rule, with its audit events."""

import pytest
from django.core import mail
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessRequest, Appeal, FormField, Grant
from accessgate.accounts.services import token_create
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import PolicyNotMet
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(licence, reviewer):
    """Council: two approvals, eight questions, a 14-day cooldown."""
    second = factories.UserFactory(role="reviewer")
    model = factories.ModelFactory(reviewers=[reviewer, second])
    make_policy(model, licence, approvals_required=2, reapply_cooldown_days=14)
    for n in range(8):
        FormField.objects.create(policy=model.policy, key=f"q{n}", label=f"Question {n}?", kind="text")
    factories.make_release(model)
    model.second_reviewer = second
    return model


def answers():
    return {f"q{n}": "An answer." for n in range(8)}


def test_direct_grant_on_a_two_approval_model_waits_console(client, council, researcher, publisher, events):
    council.publishers.add(publisher)
    client.force_login(publisher)
    url = reverse("publish:access_grant", args=[council.namespace, council.name])
    client.post(url, {"username": researcher.username})
    grant = Grant.objects.get(user=researcher, model=council)
    assert grant.status == "pending"
    assert grant.waiting_for == [
        "a second approval",
        "your intended use",
        "your answers to 8 questions",
        "your signature",
    ]
    assert events()[-2:] == ["access.request.approval_recorded", "grant.created"]
    # The researcher reads the same words on My access, then completes and signs.
    client.force_login(researcher)
    page = client.get(reverse("access:my_access")).content.decode()
    assert "a second approval, your intended use, your answers to 8 questions, your signature" in page
    services.grant_sign(
        actor=researcher,
        grant=grant,
        intended_use="Red-teaming refusal behaviour for a university safety study.",
        accepted_statement_ids=set(council.policy.statements.values_list("pk", flat=True)),
        typed_name="Rosalind Franklin",
        answers=answers(),
    )
    grant.refresh_from_db()
    assert grant.status == "pending" and grant.waiting_for == ["a second approval"]
    # The second reviewer approves the request from the queue: now it opens.
    services.access_request_approve(actor=council.second_reviewer, access_request=grant.request)
    grant.refresh_from_db()
    assert grant.status == "active"
    assert events()[-2:] == ["access.request.approved", "grant.activated"]


def test_direct_grant_in_cooldown_is_refused_by_the_hf_api(client, council, researcher, reviewer):
    earlier = services.access_request_submit(actor=researcher, **application(council, answers=answers()))
    services.access_request_reject(actor=reviewer, access_request=earlier, reason="Not now.")
    _, secret = token_create(actor=reviewer, name="review", scopes=["review"], mfa_passed=True)
    response = client.post(
        f"/api/models/{council.full_name}/user-access-request/grant",
        data={"user": researcher.username},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 403
    assert "cooldown runs until" in response.json()["error"]
    assert not Grant.objects.filter(user=researcher, model=council).exists()


def test_hf_handle_accepted_on_a_two_approval_model_says_it_waits(client, council, researcher, reviewer):
    services.access_request_submit(actor=researcher, **application(council, answers=answers()))
    _, secret = token_create(actor=reviewer, name="review", scopes=["review"], mfa_passed=True)
    response = client.post(
        f"/api/models/{council.full_name}/user-access-request/handle",
        data={"user": researcher.username, "status": "accepted"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "user": researcher.username,
        "status": "pending",
        "waitingFor": ["a second approval"],
        "message": "Approved, waiting for: a second approval",
    }
    assert not Grant.objects.filter(user=researcher, model=council).exists()


def test_one_admin_granting_an_appeal_is_one_approval_review_page(client, council, researcher, reviewer, admin_user):
    request = services.access_request_submit(actor=researcher, **application(council, answers=answers()))
    services.access_request_reject(actor=reviewer, access_request=request, reason="No.")
    services.access_request_appeal(actor=researcher, access_request=request, message="Please look again.")
    client.force_login(admin_user)
    url = reverse("review:appeal_decide", args=[request.pk, "grant"])
    assert client.post(url, {"message": "Fair point."}).status_code == 302
    assert not Grant.objects.filter(user=researcher, model=council).exists()
    assert Appeal.objects.get(request=request).outcome == "pending"
    assert AuditEvent.objects.filter(action="access.appeal.approval_recorded", target_id=str(request.pk)).count() == 1
    # The reviewer who rejected cannot be the second; another reviewer can.
    with pytest.raises(Exception, match="You rejected this request"):
        services.access_request_appeal_decide(actor=reviewer, access_request=request, grant=True, message="ok")
    grant = services.access_request_appeal_decide(
        actor=council.second_reviewer, access_request=request, grant=True, message="Agreed."
    )
    assert grant.status == "active"


def test_a_changed_resubmission_voids_the_countersignature(client, model, researcher, reviewer, events):
    make_policy(model, model.policy.license, require_signoff=True, signoff_domains=["uni.edu"])
    request = services.access_request_submit(actor=researcher, **application(model))
    signoff = services.signoff_request(
        actor=researcher, access_request=request, official_name="Dean Jones", official_email="dean@uni.edu"
    )
    services.signoff_countersign(token=services.signoff_token(signoff), typed_name="Dean Jones")
    services.access_request_request_changes(actor=reviewer, access_request=request, message="Say more.")
    sent = len(mail.outbox)
    client.force_login(researcher)
    data = {
        "intended_use": "Fine-tune away the safeguards and redistribute the weights.",
        "typed_name": "Rosalind Franklin",
        **{f"statement_{s.pk}": "on" for s in model.policy.statements.filter(is_active=True)},
    }
    response = client.post(reverse("access:request_resubmit", args=[request.pk]), data)
    assert response.status_code == 302
    signoff.refresh_from_db()
    assert signoff.status == "void"
    assert events()[-3:] == ["access.request.resubmitted", "access.signoff.voided", "access.signoff.requested"]
    renewed = request.signoffs.get(status="pending")
    assert renewed.official_email == "dean@uni.edu" and len(mail.outbox) >= sent
    # The reviewer's approval is refused: the countersignature does not cover this content.
    with pytest.raises(PolicyNotMet, match="countersignature"):
        services.access_request_approve(actor=reviewer, access_request=AccessRequest.objects.get(pk=request.pk))
    assert not Grant.objects.filter(user=researcher, model=model).exists()


def test_the_rest_api_shows_what_a_grant_waits_for(client, model, researcher, reviewer):
    services.grant_create_direct(actor=reviewer, user=researcher, model=model)
    _, secret = token_create(actor=researcher, name="mine", scopes=["apply"])
    response = client.get(reverse("api_v1:grants"), headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["status"] == "pending" and row["waiting_for"] == ["your intended use", "your signature"]
