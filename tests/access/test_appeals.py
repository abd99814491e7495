"""After a rejection: the cooldown before applying again, and the one appeal."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import Appeal, AppealOutcome, Grant, RequestStatus
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet, ValidationFailed
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db
META = RequestMeta(ip="192.0.2.10", user_agent="pytest")


@pytest.fixture
def other_reviewer(model):
    other = factories.UserFactory(role="reviewer", email="other@elsewhere.example", profile__affiliation="Elsewhere")
    model.reviewers.add(other)
    return other


@pytest.fixture
def rejected(researcher, model, licence, reviewer):
    make_policy(model, licence, reapply_cooldown_days=14)
    request = services.access_request_submit(actor=researcher, **application(model))
    return services.access_request_reject(actor=reviewer, access_request=request, reason="Too vague.")


class TestCooldown:
    def test_reapplying_within_the_cooldown_is_refused_with_the_date(self, researcher, model, rejected, events):
        until = rejected.decided_at + timedelta(days=14)
        with pytest.raises(PolicyNotMet) as error:
            services.access_request_submit(actor=researcher, **application(model))
        assert error.value.message == (
            f"Your last request for {model.full_name} was rejected; "
            f"you may apply again from {until:%Y-%m-%d %H:%M} UTC."
        )
        assert events() == []

    def test_after_the_cooldown_a_new_request_is_accepted(self, researcher, model, rejected):
        rejected.decided_at = timezone.now() - timedelta(days=15)
        rejected.save(update_fields=["decided_at"])
        assert services.access_request_submit(actor=researcher, **application(model)).status == "submitted"

    def test_the_researcher_sees_the_date(self, client, researcher, rejected):
        client.force_login(researcher)
        page = client.get(reverse("access:request_detail", args=[rejected.pk])).content.decode()
        until = rejected.decided_at + timedelta(days=14)
        assert f"again from <strong>{until:%Y-%m-%d %H:%M} UTC" in page

    def test_no_cooldown_by_default(self, researcher, model, reviewer):
        request = services.access_request_submit(actor=researcher, **application(model))
        services.access_request_reject(actor=reviewer, access_request=request, reason="No.")
        assert services.access_request_submit(actor=researcher, **application(model)).status == "submitted"


class TestAppeal:
    def test_appeal_then_a_different_reviewer_grants_it(
        self, researcher, rejected, reviewer, other_reviewer, events, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            appeal = services.access_request_appeal(
                actor=researcher,
                access_request=rejected,
                message="The study is approved by our ethics board.",
                meta=META,
            )
        rejected.refresh_from_db()
        assert rejected.status == RequestStatus.APPEALED
        assert events() == ["access.request.appealed"]
        assert AuditEvent.objects.get(action="access.request.appealed").details == {
            "model": rejected.model.full_name,
            "appeal_id": appeal.pk,
            "message": "The study is approved by our ethics board.",
        }
        assert any("A rejection was appealed" in m.body for m in mail.outbox)

        with pytest.raises(AccessDenied, match="You rejected this request; a different reviewer or an admin decides"):
            services.access_request_appeal_decide(actor=reviewer, access_request=rejected, grant=True, message="ok")
        with pytest.raises(InvalidTransition, match="This request is under appeal; decide the appeal instead."):
            services.access_request_approve(actor=other_reviewer, access_request=rejected)

        grant = services.access_request_appeal_decide(
            actor=other_reviewer, access_request=rejected, grant=True, message="Convincing.", meta=META
        )
        rejected.refresh_from_db()
        appeal.refresh_from_db()
        assert rejected.status == RequestStatus.APPROVED and grant.status == "active"
        assert (appeal.outcome, appeal.decided_by) == (AppealOutcome.GRANTED, other_reviewer)
        assert events() == [
            "access.request.appealed",
            "access.appeal.granted",
            "access.request.approved",
            "grant.created",
        ]

    def test_a_denied_appeal_is_final(
        self, researcher, rejected, other_reviewer, admin_user, events, django_capture_on_commit_callbacks
    ):
        services.access_request_appeal(actor=researcher, access_request=rejected, message="Please reconsider.")
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.access_request_appeal_decide(
                actor=admin_user, access_request=rejected, grant=False, message="The rejection stands."
            )
        assert outcome is None
        rejected.refresh_from_db()
        assert rejected.status == RequestStatus.REJECTED
        assert rejected.reviewer_message == "The rejection stands."
        assert Appeal.objects.get().outcome == AppealOutcome.DENIED
        assert events() == ["access.request.appealed", "access.appeal.denied"]
        assert "the rejection stands. This outcome is final." in mail.outbox[0].body
        with pytest.raises(Conflict, match="already been appealed; the outcome of an appeal is final."):
            services.access_request_appeal(actor=researcher, access_request=rejected, message="Again")
        with pytest.raises(InvalidTransition, match="This request is rejected; it cannot be approved."):
            services.access_request_appeal_decide(
                actor=other_reviewer, access_request=rejected, grant=True, message="x"
            )
        assert events() == ["access.request.appealed", "access.appeal.denied"]
        assert not Grant.objects.exists()

    def test_only_the_applicant_appeals_only_a_rejection_with_a_message(self, researcher, model, rejected, reviewer):
        with pytest.raises(AccessDenied, match="Only the applicant can appeal this request."):
            services.access_request_appeal(actor=reviewer, access_request=rejected, message="x")
        with pytest.raises(ValidationFailed, match="Say why the decision should change"):
            services.access_request_appeal(actor=researcher, access_request=rejected, message="  ")
        open_request = services.access_request_submit(
            actor=factories.UserFactory(profile__full_name="Ada Lovelace"),
            **application(model, typed_name="Ada Lovelace"),
        )
        with pytest.raises(InvalidTransition, match="This request is awaiting review; it cannot be appealed."):
            services.access_request_appeal(actor=open_request.user, access_request=open_request, message="x")
        assert not Appeal.objects.exists()

    def test_deciding_needs_a_reason_and_a_non_recused_reviewer(self, researcher, rejected, other_reviewer, events):
        services.access_request_appeal(actor=researcher, access_request=rejected, message="Please.")
        with pytest.raises(ValidationFailed, match="Give the outcome of the appeal a reason"):
            services.access_request_appeal_decide(
                actor=other_reviewer, access_request=rejected, grant=False, message=""
            )
        services.access_request_recuse(actor=other_reviewer, access_request=rejected, reason="Co-author.")
        with pytest.raises(AccessDenied, match="You recused yourself"):
            services.access_request_appeal_decide(
                actor=other_reviewer, access_request=rejected, grant=False, message="x"
            )
        assert events() == ["access.request.appealed", "access.request.recused"]

    def test_no_new_application_while_the_appeal_is_open(self, researcher, model, rejected):
        services.access_request_appeal(actor=researcher, access_request=rejected, message="Please.")
        with pytest.raises(Conflict, match="Your appeal for .* is under review"):
            services.access_request_submit(actor=researcher, **application(model))
