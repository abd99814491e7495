"""Two reviewers deciding a two-person request at the same moment produce exactly one grant
(PostgreSQL row locks; SQLite cannot run these threads)."""

import threading

import pytest
from django.db import close_old_connections, connection

from accessgate.access import services
from accessgate.access.models import Grant, Review
from accessgate.audit.models import AuditEvent
from accessgate.catalog.models import LicenseVersion
from accessgate.core.errors import DomainError
from tests.support.applications import application, make_policy

from .. import factories


def race(actions):
    """Run each callable in its own thread, released together; returns results or errors."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def worker(index, action):
        barrier.wait()
        try:
            outcomes[index] = action()
        except DomainError as error:
            outcomes[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def two_person_request(postgres):
    licence = LicenseVersion.objects.create(name="Race", version="1", text="t")
    reviewers = [factories.UserFactory(role="reviewer") for _ in range(3)]
    model = factories.ModelFactory(reviewers=reviewers)
    make_policy(model, licence, approvals_required=2)
    applicant = factories.UserFactory(profile__full_name="Racer")
    request = services.access_request_submit(actor=applicant, **application(model, typed_name="Racer"))
    return request, reviewers


@pytest.mark.django_db(transaction=True)
def test_two_first_approvals_at_once_make_one_grant(two_person_request):
    request, (first, second, _) = two_person_request
    outcomes = race(
        [lambda r=r: services.access_request_approve(actor=r, access_request=request) for r in (first, second)]
    )
    # One of them was recorded as 1 of 2 (None), the other found it and opened the grant.
    assert sorted(type(o).__name__ for o in outcomes) == ["Grant", "NoneType"]
    assert Grant.objects.count() == 1
    assert Review.objects.filter(request=request, decision="approved").count() == 2
    actions = list(AuditEvent.objects.filter(target_id=str(request.pk)).values_list("action", flat=True))
    assert actions.count("access.request.approval_recorded") == 1
    assert actions.count("access.request.approved") == 1
    assert AuditEvent.objects.filter(action="grant.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_second_approvals_at_once_make_one_grant(two_person_request):
    request, (first, second, third) = two_person_request
    services.access_request_approve(actor=first, access_request=request)
    outcomes = race(
        [lambda r=r: services.access_request_approve(actor=r, access_request=request) for r in (second, third)]
    )
    grants = [o for o in outcomes if isinstance(o, Grant)]
    refusals = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(grants) == 1 and len(refusals) == 1
    assert refusals[0].message == "This request is approved; it cannot be approved."
    assert Grant.objects.count() == 1
    assert AuditEvent.objects.filter(action="grant.created").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_appeal_decision_and_a_direct_grant_at_once_make_one_usable_grant(postgres):
    licence = LicenseVersion.objects.create(name="Race appeal", version="1", text="t")
    rejecter, appeal_reviewer, granter = (factories.UserFactory(role="reviewer") for _ in range(3))
    model = factories.ModelFactory(reviewers=[rejecter, appeal_reviewer, granter])
    make_policy(model, licence)
    applicant = factories.UserFactory(profile__full_name="Appealer")
    request = services.access_request_submit(actor=applicant, **application(model, typed_name="Appealer"))
    services.access_request_reject(actor=rejecter, access_request=request, reason="No.")
    services.access_request_appeal(actor=applicant, access_request=request, message="Please look again.")
    outcomes = race(
        [
            lambda: services.access_request_appeal_decide(
                actor=appeal_reviewer, access_request=request, grant=True, message="Granted."
            ),
            lambda: services.grant_create_direct(actor=granter, user=applicant, model=model),
        ]
    )
    appeal, direct = outcomes
    assert isinstance(appeal, Grant) and appeal.status == "active"
    # The direct grant waited for the appeal's decision, then saw it: a clear refusal.
    assert isinstance(direct, DomainError)
    assert "already has access" in direct.message or "appeal" in direct.message
    assert Grant.objects.active().filter(user=applicant, model=model).count() == 1
    assert Grant.objects.filter(user=applicant, model=model).count() == 1
    assert AuditEvent.objects.filter(action="grant.created").count() == 1
    assert AuditEvent.objects.filter(action="access.appeal.granted").count() == 1
    assert not AuditEvent.objects.filter(action="access.request.approval_recorded").exists()
