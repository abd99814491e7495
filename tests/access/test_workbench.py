"""The reviewer's workbench: claim/assign, internal notes, queue flags, SLA order, bulk."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import AccessRequest, RequestStatus, ReviewNote
from accessgate.access.selectors import queue_flags, review_queue
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, InvalidTransition, ValidationFailed
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(researcher, model):
    return services.access_request_submit(actor=researcher, meta=RequestMeta(ip="192.0.2.50"), **application(model))


def test_claim_assign_release(pending, reviewer, model, events):
    colleague = factories.UserFactory(role="reviewer")
    model.reviewers.add(colleague)
    start = len(events())
    services.access_request_assign(actor=reviewer, access_request=pending, assignee=reviewer)
    services.access_request_assign(actor=reviewer, access_request=pending, assignee=colleague)
    services.access_request_assign(actor=reviewer, access_request=pending, assignee=None)
    pending.refresh_from_db()
    assert pending.assigned_to is None
    assert events()[start:] == ["access.request.assigned"] * 3
    details = [e.details for e in AuditEvent.objects.filter(action="access.request.assigned").order_by("id")]
    assert [(d["previous"], d["assigned_to"]) for d in details] == [
        (None, reviewer.email),
        (reviewer.email, colleague.email),
        (colleague.email, None),
    ]


def test_assign_refusals(pending, reviewer, researcher, events):
    outsider = factories.UserFactory(role="reviewer")
    start = len(events())
    with pytest.raises(ValidationFailed, match=f"{outsider.email} is not a reviewer of"):
        services.access_request_assign(actor=reviewer, access_request=pending, assignee=outsider)
    with pytest.raises(AccessDenied, match="You are not a reviewer of"):
        services.access_request_assign(actor=outsider, access_request=pending, assignee=outsider)
    services.access_request_withdraw(actor=researcher, access_request=pending)
    with pytest.raises(InvalidTransition, match="This request is withdrawn; nothing to assign."):
        services.access_request_assign(actor=reviewer, access_request=pending, assignee=reviewer)
    assert events()[start:] == ["access.request.withdrawn"]


def test_internal_notes_are_audited_and_never_shown_to_the_applicant(client, pending, reviewer, researcher, events):
    note = services.review_note_add(actor=reviewer, access_request=pending, text="Checked the lab's page.")
    assert events()[-1] == "access.request.note_added"
    assert AuditEvent.objects.get(action="access.request.note_added").details == {
        "model": pending.model.full_name,
        "note_id": note.pk,
        "text": "Checked the lab's page.",
    }
    with pytest.raises(ValidationFailed, match="Write the note first."):
        services.review_note_add(actor=reviewer, access_request=pending, text=" ")
    with pytest.raises(AccessDenied):
        services.review_note_add(actor=researcher, access_request=pending, text="Let me in")
    assert ReviewNote.objects.count() == 1
    client.force_login(reviewer)
    assert "Checked the lab&#x27;s page." in client.get(reverse("review:detail", args=[pending.pk])).content.decode()
    client.force_login(researcher)
    assert "Checked the lab" not in client.get(reverse("access:request_detail", args=[pending.pk])).content.decode()


def test_queue_flags(model, reviewer, pending, researcher):
    gmail = factories.UserFactory(email="someone@gmail.com", profile__full_name="Some One")
    other = services.access_request_submit(
        actor=gmail, meta=RequestMeta(ip="192.0.2.50"), **application(model, typed_name="Some One")
    )
    flags = queue_flags(other, reviewer)
    assert "identity not verified" in flags and "free-mail address" in flags
    assert "same IP as another account" in flags
    services.access_request_reject(actor=reviewer, access_request=pending, reason="No.")
    later = factories.ModelFactory(reviewers=[reviewer])
    make_policy(later, model.policy.license)
    again = services.access_request_submit(actor=researcher, **application(later))
    assert {"earlier rejection", "conflict of interest"} <= set(queue_flags(again, reviewer))


def test_overdue_requests_come_first_with_a_badge(client, model, licence, reviewer):
    make_policy(model, licence, review_target_days=3)
    old, new = factories.UserFactory(), factories.UserFactory()
    first = services.access_request_submit(actor=old, **application(model, typed_name=old.profile.full_name))
    second = services.access_request_submit(actor=new, **application(model, typed_name=new.profile.full_name))
    assert second.review_due_at - second.submitted_at == timedelta(days=3)
    AccessRequest.objects.filter(pk=second.pk).update(
        submitted_at=timezone.now() - timedelta(days=5), review_due_at=timezone.now() - timedelta(days=2)
    )
    assert [r.pk for r in review_queue(reviewer)] == [second.pk, first.pk]
    client.force_login(reviewer)
    assert "overdue · 5 days old" in client.get(reverse("review:queue")).content.decode()


def test_bulk_decisions_run_each_request_and_list_failures(model, licence, reviewer, events):
    applicants = [factories.UserFactory() for _ in range(3)]
    requests = [
        services.access_request_submit(actor=u, **application(model, typed_name=u.profile.full_name))
        for u in applicants
    ]
    services.access_request_withdraw(actor=applicants[2], access_request=requests[2])
    start = len(events())
    results = services.access_requests_bulk_decide(
        actor=reviewer, request_ids=[r.pk for r in requests] + [999999], approve=True, message="Welcome."
    )
    assert [(r.request_id, r.ok, r.message) for r in results] == [
        (requests[0].pk, True, "approved"),
        (requests[1].pk, True, "approved"),
        (requests[2].pk, False, "This request is withdrawn; it cannot be approved."),
        (999999, False, "Request #999999 does not exist."),
    ]
    assert events()[start:] == ["access.request.approved", "grant.created"] * 2

    more = factories.UserFactory()
    pending = services.access_request_submit(actor=more, **application(model, typed_name=more.profile.full_name))
    results = services.access_requests_bulk_decide(actor=reviewer, request_ids=[pending.pk], approve=False, message="")
    assert results[0].message == "Give a reason for the rejection; the applicant will see it."
    pending.refresh_from_db()
    assert pending.status == RequestStatus.SUBMITTED


def test_the_queue_page_bulk_form(client, model, reviewer):
    applicant = factories.UserFactory()
    request = services.access_request_submit(
        actor=applicant, **application(model, typed_name=applicant.profile.full_name)
    )
    client.force_login(reviewer)
    page = client.post(reverse("review:bulk"), {"ids": [request.pk], "decision": "reject", "message": "Not now."})
    assert "Rejected" in page.content.decode()
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED


def test_digest_reviewers_get_no_per_request_mail_but_a_daily_digest(
    model, licence, reviewer, events, django_capture_on_commit_callbacks
):
    from django.core import mail

    make_policy(model, licence, notification_email="Team@Lab.example")
    services.reviewer_notifications_set(actor=reviewer, notifications="digest")
    assert events()[-1] == "access.reviewer.notifications_set"
    applicant = factories.UserFactory()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_submit(actor=applicant, **application(model, typed_name=applicant.profile.full_name))
    assert sorted(tuple(m.to) for m in mail.outbox) == sorted([(applicant.email,), ("team@lab.example",)])

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.review_digests_send() == 1
        assert services.review_digests_send() == 0  # at most one a day
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    assert "1 request awaiting review" in mail.outbox[0].subject and "(new)" in mail.outbox[0].body


def test_notification_preference_refusals(researcher, reviewer):
    with pytest.raises(AccessDenied, match="Only reviewers and admins"):
        services.reviewer_notifications_set(actor=researcher, notifications="digest")
    with pytest.raises(ValidationFailed, match="Choose an e-mail for each request or a daily digest."):
        services.reviewer_notifications_set(actor=reviewer, notifications="weekly")


def test_policy_refuses_a_bad_notification_address(model, licence):
    with pytest.raises(ValidationFailed, match="not an e-mail address"):
        make_policy(model, licence, notification_email="team at lab")
