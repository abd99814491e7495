"""Requests nobody can decide, or nobody decided in time, are escalated at once and once to the
model's admins, publishers and notification address; an admin can let an outside reviewer
decide that one request."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessPolicy, Escalation
from accessgate.access.rules.reviewers import eligible_reviewers
from accessgate.access.tasks import escalate_requests
from accessgate.accounts.roles import Role
from accessgate.accounts.services import role_grant, role_remove
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied
from accessgate.notifications.models import Email
from tests.support.api import bearer
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def escalated(access_request):
    return list(
        AuditEvent.objects.filter(action="access.request.escalated", target_id=str(access_request.pk))
        .order_by("id")
        .values_list("details__reason", flat=True)
    )


def _policy(model, **changes):
    AccessPolicy.objects.filter(model=model).update(**changes)


@pytest.fixture
def admin(db):
    return factories.UserFactory(role="admin", email="admin@gate.example")


@pytest.fixture
def submit(researcher, model):
    def go(**overrides):
        return services.access_request_submit(actor=researcher, **application(model, **overrides))

    return go


def test_a_request_with_a_reviewer_is_not_escalated(submit, model, reviewer, admin):
    access_request = submit()
    assert [u.pk for u in eligible_reviewers(access_request, model.policy)] == [reviewer.pk]
    assert escalated(access_request) == [] and not Escalation.objects.exists()


def test_every_reviewer_sharing_the_applicants_domain_escalates_at_submit(submit, model, reviewer, researcher, admin):
    _policy(model, conflict_blocks=True, notification_email="team@lab.example")
    reviewer.email = "rev@uni.example"
    reviewer.save()
    researcher.email = "ros@uni.example"
    researcher.save()
    publisher = factories.UserFactory(role="publisher")
    model.publishers.add(publisher)
    access_request = submit()
    assert escalated(access_request) == ["no_eligible_reviewer"]
    event = AuditEvent.objects.get(action="access.request.escalated")
    assert event.actor_id is None and event.details["eligible_reviewers"] == 0
    assert event.details["approvals_needed"] == 1
    [sent] = Email.objects.filter(subject__contains="Escalated")  # delivered after commit
    assert set(sent.to) == {admin.email, publisher.email, "team@lab.example"}
    assert f"#{access_request.pk}" in sent.subject and "no eligible reviewer left" in sent.body_text
    # Once: asking again changes nothing.
    assert services.access_request_escalate(access_request) == []
    assert escalate_requests() == 0
    assert escalated(access_request) == ["no_eligible_reviewer"]


def test_recusal_of_the_last_reviewer_escalates(submit, reviewer, admin):
    access_request = submit()
    services.access_request_recuse(actor=reviewer, access_request=access_request, reason="I know the applicant.")
    assert escalated(access_request) == ["no_eligible_reviewer"]


def test_two_approvals_with_one_reviewer_escalates_and_after_the_first_approval(submit, model, reviewer, admin):
    _policy(model, approvals_required=2)
    access_request = submit()
    assert escalated(access_request) == ["too_few_reviewers"]
    services.access_request_approve(actor=reviewer, access_request=access_request)
    assert escalated(access_request) == ["too_few_reviewers", "no_eligible_reviewer"]


def test_a_policy_change_escalates_open_requests(submit, model, reviewer, licence, admin):
    access_request = submit()
    make_policy(model, licence, approvals_required=2)
    assert escalated(access_request) == ["too_few_reviewers"]


def test_removing_the_reviewer_from_the_model_escalates(submit, model, reviewer, admin):
    access_request = submit()
    model.reviewers.remove(reviewer)
    assert escalated(access_request) == ["no_eligible_reviewer"]


def test_removing_the_reviewer_role_escalates(submit, reviewer, admin):
    access_request = submit()
    role_remove(actor=admin, user=reviewer, role=Role.REVIEWER)
    assert escalated(access_request) == ["no_eligible_reviewer"]


def test_an_overdue_request_is_escalated_once_by_the_beat_task(submit, model, admin):
    _policy(model, review_target_days=3)
    with time_machine.travel(T0, tick=False) as clock:
        access_request = submit()
        assert escalate_requests() == 0
        clock.move_to(T0 + timedelta(days=3, minutes=1))
        assert escalate_requests() == 1
        assert escalate_requests() == 0
    assert escalated(access_request) == ["overdue"]


def test_the_queue_and_the_digest_mark_escalated_requests(client, submit, reviewer, admin):
    access_request = submit()
    services.access_request_recuse(actor=reviewer, access_request=access_request, reason="Conflict.")
    client.force_login(admin)
    page = client.get(reverse("review:queue")).content.decode()
    assert "escalated" in page
    detail = client.get(reverse("review:detail", args=[access_request.pk])).content.decode()
    assert 'id="escalated"' in detail and 'id="add-reviewer"' in detail
    services.reviewer_notifications_set(actor=admin, notifications="digest")
    Email.objects.all().delete()
    services.review_digests_send()
    [digest] = Email.objects.all()
    assert "(escalated)" in digest.body_text


def test_an_admin_adds_an_outside_reviewer_for_one_request(client, submit, reviewer, admin, researcher, licence):
    access_request = submit()
    services.access_request_recuse(actor=reviewer, access_request=access_request, reason="Conflict.")
    outsider = factories.UserFactory(role="reviewer")
    other_model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(other_model, licence)
    other = services.access_request_submit(actor=researcher, **application(other_model))
    # Before: the outsider sees nothing.
    client.force_login(outsider)
    assert client.get(reverse("review:detail", args=[access_request.pk])).status_code == 404
    client.force_login(admin)
    response = client.post(reverse("review:reviewer_add", args=[access_request.pk]), {"email": outsider.email})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="access.request.reviewer_added")
    assert (event.actor_id, event.details["reviewer"]) == (admin.pk, outsider.email)
    client.force_login(outsider)
    assert client.get(reverse("review:detail", args=[access_request.pk])).status_code == 200
    assert client.get(reverse("review:detail", args=[other.pk])).status_code == 404  # that request only
    queue = client.get(reverse("review:queue")).content.decode()
    assert f"#{access_request.pk}<" in queue and f"#{other.pk}<" not in queue
    assert [u.pk for u in eligible_reviewers(access_request, access_request.model.policy)] == [outsider.pk]
    services.access_request_approve(actor=outsider, access_request=access_request)
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    with pytest.raises(AccessDenied):
        services.access_request_approve(actor=outsider, access_request=other)


def test_a_reviewer_cannot_add_reviewers(client, submit, reviewer):
    access_request = submit()
    outsider = factories.UserFactory(role="reviewer")
    with pytest.raises(AccessDenied):
        services.access_request_reviewer_add(actor=reviewer, access_request=access_request, reviewer=outsider)
    client.force_login(reviewer)
    response = client.post(reverse("review:reviewer_add", args=[access_request.pk]), {"email": outsider.email})
    assert response.status_code == 403
    detail = client.get(reverse("review:detail", args=[access_request.pk])).content.decode()
    assert 'id="add-reviewer"' not in detail
    assert not AuditEvent.objects.filter(action="access.request.reviewer_added").exists()


def test_a_researcher_sees_no_escalation_controls(client, submit, researcher, reviewer):
    access_request = submit()
    services.access_request_recuse(actor=reviewer, access_request=access_request, reason="Conflict.")
    client.force_login(researcher)
    assert client.get(reverse("review:detail", args=[access_request.pk])).status_code in (403, 404)
    page = client.get(reverse("access:request_detail", args=[access_request.pk])).content.decode()
    assert "add-reviewer" not in page and 'id="escalated"' not in page


def test_the_applicant_cannot_be_added_as_reviewer(submit, researcher, admin):
    access_request = submit()
    role_grant(actor=None, user=researcher, role=Role.REVIEWER)
    with pytest.raises(AccessDenied):
        services.access_request_reviewer_add(actor=admin, access_request=access_request, reviewer=researcher)


def test_the_rest_api_adds_an_outside_reviewer(submit, reviewer, admin):
    access_request = submit()
    outsider = factories.UserFactory(role="reviewer")
    url = f"/api/v1/review/requests/{access_request.pk}/reviewers/"
    assert bearer(reviewer, ("review",)).post(url, {"email": outsider.email}, format="json").status_code == 403
    response = bearer(admin, ("review",)).post(url, {"email": outsider.email}, format="json")
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.filter(action="access.request.reviewer_added").count() == 1
    queue = bearer(outsider, ("review",)).get("/api/v1/review/requests/").json()["results"]
    assert [r["id"] for r in queue] == [access_request.pk]
