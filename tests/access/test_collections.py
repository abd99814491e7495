"""Collections: one form, one request per member decided under its own policy, later models too."""

import pytest

from accessgate.access import services
from accessgate.access.models import AccessRequest, Grant, GrantStatus
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import Conflict, ValidationFailed
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


def member(licence, reviewer, **policy):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, **policy)
    factories.make_release(model)
    return model


@pytest.fixture
def family(model, licence, reviewer):
    others = [member(licence, reviewer), member(licence, reviewer)]
    return services.collection_create(
        actor=None,
        namespace="acme-lab",
        name="frontier-family",
        display_name="Frontier family",
        lead=model,
        members=others,
    )


def test_one_application_opens_one_request_per_member_under_its_own_policy(researcher, family, reviewer, events):
    lead = services.access_request_submit(actor=researcher, collection=family, **application(family.lead))
    requests = AccessRequest.objects.filter(collection=family, user=researcher)
    assert {r.model for r in requests} == set(family.members.all()) and lead.model == family.lead
    assert all(r.agreements.count() == 1 for r in requests)
    applied = AuditEvent.objects.get(action="access.collection.applied").details
    assert applied["left_out"] == {} and set(applied["requests"]) == {m.full_name for m in family.members.all()}
    start = len(events())
    grants = [services.access_request_approve(actor=reviewer, access_request=r) for r in requests.order_by("pk")]
    assert events()[start:] == ["access.request.approved", "grant.created"] * 3
    assert {g.status for g in grants} == {"active"}
    # Each grant stands alone: revoking one leaves the others.
    services.grant_revoke(actor=reviewer, grant=grants[1], reason="Not this one.")
    assert Grant.objects.active().filter(user=researcher).count() == 2


def test_a_two_approval_member_waits_and_a_cooldown_member_is_left_out(researcher, model, licence, reviewer):
    council = member(licence, reviewer, approvals_required=2, reapply_cooldown_days=14)
    strict = member(licence, reviewer, approvals_required=2)
    family = services.collection_create(
        actor=None, namespace="acme-lab", name="frontier", display_name="F", lead=model, members=[council, strict]
    )
    earlier = services.access_request_submit(actor=researcher, **application(council))
    services.access_request_reject(actor=reviewer, access_request=earlier, reason="Not now.")
    services.access_request_submit(actor=researcher, collection=family, **application(model))
    applied = AuditEvent.objects.get(action="access.collection.applied").details
    assert list(applied["left_out"]) == [council.full_name] and "cooldown" in applied["left_out"][council.full_name]
    assert not AccessRequest.objects.filter(user=researcher, model=council, status="submitted").exists()
    on_strict = AccessRequest.objects.get(user=researcher, model=strict)
    # One reviewer approving is one of the two approvals the member's own policy needs.
    assert services.access_request_approve(actor=reviewer, access_request=on_strict) is None
    assert not Grant.objects.filter(user=researcher, model=strict).exists()
    second = factories.UserFactory(role="reviewer")
    strict.reviewers.add(second)
    assert services.access_request_approve(actor=second, access_request=on_strict).status == "active"


def test_models_added_later_are_covered_when_the_collection_says_so(researcher, family, licence, reviewer, events):
    services.access_request_submit(actor=researcher, collection=family, **application(family.lead))
    for request in AccessRequest.objects.filter(collection=family):
        services.access_request_approve(actor=reviewer, access_request=request)
    later = member(licence, reviewer)
    start = len(events())
    opened = services.collection_add_model(actor=None, collection=family, model=later)
    assert [r.model for r in opened] == [later] and opened[0].user == researcher
    assert events()[start:] == ["access.collection.model_added", "access.request.submitted"]
    # Its reviewers decide it; the grant then waits for the holder's own signature.
    grant = services.access_request_approve(actor=reviewer, access_request=opened[0])
    assert grant.status == "pending" and grant.waiting_for == ["your intended use", "your signature"]


def test_not_when_it_does_not(researcher, model, licence, reviewer):
    closed = services.collection_create(
        actor=None, namespace="acme-lab", name="closed", display_name="Closed", lead=model, covers_later_models=False
    )
    request = services.access_request_submit(actor=researcher, collection=closed, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    assert services.collection_add_model(actor=None, collection=closed, model=member(licence, reviewer)) == []


def test_refusals(model, licence, reviewer, family, researcher):
    other_licence = factories.LicenseFactory()
    stranger = factories.ModelFactory()
    make_policy(stranger, other_licence)
    with pytest.raises(ValidationFailed, match="Every model of a collection carries its licence"):
        services.collection_add_model(actor=None, collection=family, model=stranger)
    with pytest.raises(Conflict, match="is already in"):
        services.collection_add_model(actor=None, collection=family, model=model)
    with pytest.raises(Conflict, match="already exists"):
        services.collection_create(
            actor=None, namespace="acme-lab", name="frontier-family", display_name="x", lead=model
        )
    with pytest.raises(ValidationFailed, match="through its lead model"):
        second = family.members.exclude(pk=model.pk).first()
        services.access_request_submit(actor=researcher, collection=family, **application(second))


def test_each_member_waits_only_for_its_own_rules(researcher, model, licence, reviewer):
    make_policy(model, licence, require_mfa=True, requirements_timing="after")
    sibling = member(licence, reviewer)
    family = services.collection_create(
        actor=None, namespace="acme-lab", name="fam", display_name="Fam", lead=model, members=[sibling]
    )
    services.access_request_submit(actor=researcher, collection=family, **application(model))
    grants = {
        r.model: services.access_request_approve(actor=reviewer, access_request=r)
        for r in AccessRequest.objects.filter(collection=family)
    }
    assert grants[model].status == GrantStatus.PENDING and grants[model].waiting_for == ["Two-factor authentication"]
    assert grants[sibling].status == GrantStatus.ACTIVE


def test_the_collection_page_says_what_each_member_needs(client, researcher, model, licence, reviewer):
    council = member(licence, reviewer, approvals_required=2, require_signoff=True)
    family = services.collection_create(
        actor=None, namespace="acme-lab", name="fam", display_name="Fam", lead=model, members=[council]
    )
    client.force_login(researcher)
    page = client.get(f"/models/collections/{family.full_name}/apply/").content.decode()
    assert f"{council.full_name}</span>: two approvals, a signing official&#x27;s countersignature" in page
