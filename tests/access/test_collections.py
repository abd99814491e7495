"""Collections: one request and one agreement, a grant on every member, later models too."""

import pytest

from accessgate.access import services
from accessgate.access.models import Grant, GrantStatus
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


def test_one_application_yields_a_grant_on_every_member(researcher, family, reviewer, events):
    request = services.access_request_submit(actor=researcher, collection=family, **application(family.lead))
    assert request.agreements.count() == 1
    assert AuditEvent.objects.get(action="access.request.submitted").details["collection"] == family.full_name
    start = len(events())
    grant = services.access_request_approve(actor=reviewer, access_request=request)
    grants = Grant.objects.filter(request=request)
    assert {g.model for g in grants} == set(family.members.all())
    assert {g.expires_at for g in grants} == {grant.expires_at}
    assert events()[start:] == ["access.request.approved"] + ["grant.created"] * 3
    # Each grant stands alone: revoking one leaves the others.
    other = grants.exclude(pk=grant.pk).first()
    services.grant_revoke(actor=reviewer, grant=other, reason="Not this one.")
    assert Grant.objects.active().filter(request=request).count() == 2


def test_models_added_later_are_covered_when_the_collection_says_so(researcher, family, licence, reviewer, events):
    request = services.access_request_submit(actor=researcher, collection=family, **application(family.lead))
    services.access_request_approve(actor=reviewer, access_request=request)
    later = member(licence, reviewer)
    start = len(events())
    opened = services.collection_add_model(actor=None, collection=family, model=later)
    assert [g.model for g in opened] == [later] and opened[0].user == researcher
    assert events()[start:] == ["access.collection.model_added", "grant.created"]


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


def test_a_pending_lead_makes_pending_members(researcher, model, licence, reviewer):
    make_policy(model, licence, require_mfa=True, requirements_timing="after")
    sibling = member(licence, reviewer)
    family = services.collection_create(
        actor=None, namespace="acme-lab", name="fam", display_name="Fam", lead=model, members=[sibling]
    )
    request = services.access_request_submit(actor=researcher, collection=family, **application(model))
    services.access_request_approve(actor=reviewer, access_request=request)
    assert set(Grant.objects.filter(request=request).values_list("status", flat=True)) == {GrantStatus.PENDING}
