from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accessgate.access import services
from accessgate.access.models import AccessRequest, Agreement, Grant, GrantStatus, RequestStatus, Review
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet, ValidationFailed
from accessgate.notifications.models import Email
from tests.support.applications import application, make_policy

from .. import factories

pytestmark = pytest.mark.django_db
META = RequestMeta(ip="192.0.2.7", user_agent="pytest-browser/1.0")


def submit(user, model, **overrides):
    return services.access_request_submit(actor=user, meta=META, **application(model, **overrides))


def state_counts():
    return (
        AccessRequest.objects.count(),
        Agreement.objects.count(),
        Review.objects.count(),
        Grant.objects.count(),
        AuditEvent.objects.count(),
    )


class TestSubmit:
    def test_manual_policy_creates_request_and_frozen_agreement(
        self, researcher, model, events, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            request = submit(researcher, model)

        assert request.status == RequestStatus.SUBMITTED
        agreement = request.agreements.get()
        policy = model.policy
        assert agreement.license == policy.license
        assert agreement.license_sha256 == policy.license.sha256
        assert [a["text"] for a in agreement.attestations] == [s.text for s in policy.statements.all()]
        assert [a["sha256"] for a in agreement.attestations] == [s.sha256 for s in policy.statements.all()]
        assert agreement.typed_name == "Rosalind Franklin"
        assert (agreement.ip, agreement.user_agent) == ("192.0.2.7", "pytest-browser/1.0")
        assert agreement.intended_use == request.intended_use
        assert events() == ["access.request.submitted"]
        event = AuditEvent.objects.get(action="access.request.submitted")
        assert event.details["agreement_id"] == agreement.pk
        assert event.details["license_sha256"] == policy.license.sha256
        assert event.ip == "192.0.2.7"
        assert event.actor_label == researcher.email
        # The applicant hears it arrived; the model's reviewers hear there is work.
        recipients = sorted(tuple(m.to) for m in mail.outbox)
        assert recipients == sorted([(researcher.email,), (model.reviewers.get().email,)])

    def test_auto_policy_grants_at_once(self, researcher, auto_model, events, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            request = submit(researcher, auto_model)

        request.refresh_from_db()
        assert request.status == RequestStatus.APPROVED
        grant = request.grant
        assert grant.status == GrantStatus.ACTIVE
        assert timedelta(days=29) < grant.expires_at - timezone.now() <= timedelta(days=30)
        assert request.reviews.get().reviewer is None
        assert events() == ["access.request.submitted", "access.request.approved", "grant.created"]
        assert AuditEvent.objects.get(action="access.request.approved").details["automatic"] is True
        assert [m.subject for m in mail.outbox] == [f"[accessgate] Access to {auto_model.full_name} is granted"]

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"intended_use": "too short"}, "intended_use"),
            ({"accepted_statement_ids": set()}, "statements"),
            ({"typed_name": "Someone Else"}, "typed_name"),
            ({"typed_name": "   "}, "typed_name"),
        ],
    )
    def test_invalid_application_is_refused_and_changes_nothing(self, researcher, model, overrides, field):
        before = state_counts()
        with pytest.raises(ValidationFailed) as error:
            submit(researcher, model, **overrides)
        assert error.value.field == field
        assert state_counts() == before

    def test_one_unticked_statement_is_refused(self, researcher, model):
        first = model.policy.statements.first()
        with pytest.raises(ValidationFailed, match="1 of 2 are not ticked"):
            submit(researcher, model, accepted_statement_ids={first.pk})

    def test_typed_name_matches_case_and_space_insensitively(self, researcher, model):
        request = submit(researcher, model, typed_name="  rosalind   FRANKLIN ")
        assert request.agreements.get().typed_name == "rosalind FRANKLIN"

    def test_incomplete_profile_is_refused(self, model):
        user = factories.UserFactory(profile__affiliation="")
        before = state_counts()
        with pytest.raises(PolicyNotMet, match="institution or company"):
            services.access_request_submit(actor=user, **application(model, typed_name=user.profile.full_name))
        assert state_counts() == before

    def test_model_without_policy_is_refused(self, researcher):
        model = factories.ModelFactory()
        with pytest.raises(PolicyNotMet, match="not open for applications"):
            services.access_request_submit(
                actor=researcher, model=model, intended_use="x" * 50, accepted_statement_ids=set(), typed_name="x"
            )

    def test_second_open_request_is_refused(self, researcher, model):
        submit(researcher, model)
        before = state_counts()
        with pytest.raises(Conflict, match="already have an open request"):
            submit(researcher, model)
        assert state_counts() == before

    def test_applying_with_an_active_grant_is_refused(self, researcher, auto_model):
        submit(researcher, auto_model)
        with pytest.raises(Conflict, match="already have access"):
            submit(researcher, auto_model)

    def test_new_licence_statement_texts_are_what_gets_signed(self, researcher, model, licence):
        make_policy(model, licence, statements=["Only this new statement."])
        request = submit(researcher, model)
        assert [a["text"] for a in request.agreements.get().attestations] == ["Only this new statement."]


class TestReview:
    @pytest.fixture
    def pending(self, researcher, model):
        return submit(researcher, model)

    def test_approve_creates_grant_with_policy_length(
        self, pending, reviewer, events, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            grant = services.access_request_approve(
                actor=reviewer, access_request=pending, message="Welcome", meta=META
            )

        pending.refresh_from_db()
        assert pending.status == RequestStatus.APPROVED
        assert pending.reviewer_message == "Welcome"
        assert grant.user == pending.user and grant.model == pending.model
        assert timedelta(days=29) < grant.expires_at - timezone.now() <= timedelta(days=30)
        assert events() == ["access.request.approved", "grant.created"]
        approved = AuditEvent.objects.get(action="access.request.approved")
        assert approved.actor == reviewer
        assert approved.details == {
            "model": pending.model.full_name,
            "review_id": pending.reviews.get().pk,
            "grant_id": grant.pk,
            "automatic": False,
            "approved_by": [reviewer.email],
            "grant_days": 30,
            "waiting_for": [],
        }
        assert mail.outbox[-1].to == [pending.user.email]
        assert "Welcome" in mail.outbox[-1].body

    def test_reject_requires_a_reason(self, pending, reviewer):
        before = state_counts()
        with pytest.raises(ValidationFailed, match="reason"):
            services.access_request_reject(actor=reviewer, access_request=pending, reason="  ")
        assert state_counts() == before
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED

    def test_reject_tells_the_applicant_why(self, pending, reviewer, events, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.access_request_reject(actor=reviewer, access_request=pending, reason="Not a research use.")
        pending.refresh_from_db()
        assert pending.status == RequestStatus.REJECTED
        assert pending.reviewer_message == "Not a research use."
        assert events() == ["access.request.rejected"]
        assert AuditEvent.objects.get(action="access.request.rejected").details["reason"] == "Not a research use."
        assert "Not a research use." in mail.outbox[-1].body
        assert not Grant.objects.exists()

    def test_request_changes_then_resubmit_keeps_history(self, pending, reviewer, researcher, events):
        services.access_request_request_changes(actor=reviewer, access_request=pending, message="Name your lab.")
        pending.refresh_from_db()
        assert pending.status == RequestStatus.CHANGES_REQUESTED

        services.access_request_resubmit(
            actor=researcher,
            access_request=pending,
            intended_use="Red-teaming at the Franklin Lab, King's College, for a safety paper.",
            accepted_statement_ids=application(pending.model)["accepted_statement_ids"],
            typed_name="Rosalind Franklin",
            meta=META,
        )
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED
        assert "Franklin Lab" in pending.intended_use
        assert pending.agreements.count() == 2
        assert [r.decision for r in pending.reviews.all()] == ["changes_requested"]
        assert events() == ["access.request.changes_requested", "access.request.resubmitted"]

        services.access_request_approve(actor=reviewer, access_request=pending)
        pending.refresh_from_db()
        assert pending.status == RequestStatus.APPROVED

    def test_request_changes_requires_a_message(self, pending, reviewer):
        with pytest.raises(ValidationFailed):
            services.access_request_request_changes(actor=reviewer, access_request=pending, message="")

    def test_withdraw(self, pending, researcher, events):
        services.access_request_withdraw(actor=researcher, access_request=pending)
        pending.refresh_from_db()
        assert pending.status == RequestStatus.WITHDRAWN
        assert events() == ["access.request.withdrawn"]
        # A withdrawn request no longer blocks a new application.
        assert submit(researcher, pending.model).status == RequestStatus.SUBMITTED

    def test_admin_reviews_any_model(self, pending, admin_user, events):
        assert not pending.model.reviewers.filter(pk=admin_user.pk).exists()
        grant = services.access_request_approve(actor=admin_user, access_request=pending)
        pending.refresh_from_db()
        assert pending.status == RequestStatus.APPROVED
        assert grant.user == pending.user and grant.status == GrantStatus.ACTIVE
        assert pending.reviews.get().reviewer == admin_user
        assert events() == ["access.request.approved", "grant.created"]
        assert {e.actor_id for e in AuditEvent.objects.order_by("-id")[:2]} == {admin_user.pk}

    def test_reviewer_of_another_model_is_refused(self, pending):
        stranger = factories.UserFactory(role="reviewer")
        before = state_counts()
        with pytest.raises(AccessDenied, match="not a reviewer"):
            services.access_request_approve(actor=stranger, access_request=pending)
        assert state_counts() == before

    def test_plain_researcher_cannot_review(self, pending, other_researcher):
        with pytest.raises(AccessDenied):
            services.access_request_reject(actor=other_researcher, access_request=pending, reason="no")

    def test_nobody_reviews_their_own_request(self, model, licence):
        reviewer_applicant = factories.UserFactory(role="reviewer", profile__full_name="Rey Self")
        model.reviewers.add(reviewer_applicant)
        own = services.access_request_submit(actor=reviewer_applicant, **application(model, typed_name="Rey Self"))
        with pytest.raises(AccessDenied, match="own request"):
            services.access_request_approve(actor=reviewer_applicant, access_request=own)

    def test_applicant_only_withdraws_and_resubmits_own(self, pending, other_researcher):
        before = state_counts()
        with pytest.raises(AccessDenied, match="Only the applicant can withdraw"):
            services.access_request_withdraw(actor=other_researcher, access_request=pending)
        with pytest.raises(AccessDenied, match="Only the applicant can resubmit"):
            services.access_request_resubmit(
                actor=other_researcher,
                access_request=pending,
                intended_use="x" * 40,
                accepted_statement_ids=[],
                typed_name="Nobody",
            )
        assert state_counts() == before


class TestTransitions:
    """Every move outside the transition table is refused and changes nothing."""

    @pytest.fixture
    def request_in(self, researcher, model, reviewer):
        def make(status):
            request = submit(researcher, model)
            if status == RequestStatus.APPROVED:
                services.access_request_approve(actor=reviewer, access_request=request)
            elif status == RequestStatus.REJECTED:
                services.access_request_reject(actor=reviewer, access_request=request, reason="no")
            elif status == RequestStatus.WITHDRAWN:
                services.access_request_withdraw(actor=researcher, access_request=request)
            elif status == RequestStatus.CHANGES_REQUESTED:
                services.access_request_request_changes(actor=reviewer, access_request=request, message="more")
            request.refresh_from_db()
            assert request.status == status
            return request

        return make

    @pytest.mark.parametrize(
        ("status", "action"),
        [
            (RequestStatus.APPROVED, "approve"),
            (RequestStatus.APPROVED, "reject"),
            (RequestStatus.APPROVED, "withdraw"),
            (RequestStatus.APPROVED, "changes"),
            (RequestStatus.REJECTED, "approve"),
            (RequestStatus.REJECTED, "resubmit"),
            (RequestStatus.WITHDRAWN, "approve"),
            (RequestStatus.WITHDRAWN, "withdraw"),
            (RequestStatus.CHANGES_REQUESTED, "approve"),
            (RequestStatus.CHANGES_REQUESTED, "reject"),
            (RequestStatus.SUBMITTED, "resubmit"),
        ],
    )
    def test_refused(self, request_in, status, action, researcher, reviewer):
        request = request_in(status)
        calls = {
            "approve": lambda: services.access_request_approve(actor=reviewer, access_request=request),
            "reject": lambda: services.access_request_reject(actor=reviewer, access_request=request, reason="r"),
            "changes": lambda: services.access_request_request_changes(
                actor=reviewer, access_request=request, message="m"
            ),
            "withdraw": lambda: services.access_request_withdraw(actor=researcher, access_request=request),
            "resubmit": lambda: services.access_request_resubmit(
                actor=researcher,
                access_request=request,
                **{k: v for k, v in application(request.model).items() if k != "model"},
            ),
        }
        before = state_counts()
        with pytest.raises(InvalidTransition, match=f"This request is {request.get_status_display().lower()}"):
            calls[action]()
        assert state_counts() == before
        request.refresh_from_db()
        assert request.status == status


class TestGrants:
    @pytest.fixture
    def grant(self, researcher, model, reviewer):
        return services.access_request_approve(actor=reviewer, access_request=submit(researcher, model))

    def test_revoke(self, grant, reviewer, events, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            services.grant_revoke(actor=reviewer, grant=grant, reason="Licence breach reported.", meta=META)
        grant.refresh_from_db()
        assert grant.status == GrantStatus.REVOKED
        assert grant.revoked_by == reviewer
        assert not Grant.objects.active().filter(pk=grant.pk).exists()
        assert events() == ["grant.revoked"]
        assert "Licence breach reported." in mail.outbox[-1].body

    def test_revoke_needs_reason_and_reviewer(self, grant, reviewer, other_researcher):
        with pytest.raises(ValidationFailed):
            services.grant_revoke(actor=reviewer, grant=grant, reason="")
        with pytest.raises(AccessDenied):
            services.grant_revoke(actor=other_researcher, grant=grant, reason="because")
        grant.refresh_from_db()
        assert grant.status == GrantStatus.ACTIVE

    def test_revoke_twice_is_refused(self, grant, reviewer):
        services.grant_revoke(actor=reviewer, grant=grant, reason="once")
        with pytest.raises(InvalidTransition, match="already revoked"):
            services.grant_revoke(actor=reviewer, grant=grant, reason="twice")

    def test_expiry_is_effective_before_the_job_and_recorded_by_it(self, grant, events):
        later = grant.expires_at + timedelta(seconds=1)
        assert not Grant.objects.active(now=later).filter(pk=grant.pk).exists()
        assert services.grant_expire_due(now=later) == 1
        grant.refresh_from_db()
        assert grant.status == GrantStatus.EXPIRED
        assert events() == ["grant.expired"]
        assert services.grant_expire_due(now=later) == 0

    def test_reapply_after_revocation_gets_a_new_grant(self, grant, reviewer, researcher, model):
        services.grant_revoke(actor=reviewer, grant=grant, reason="paused")
        second = services.access_request_approve(actor=reviewer, access_request=submit(researcher, model))
        assert second.status == GrantStatus.ACTIVE

    def test_reapply_after_lapse_marks_the_old_grant_expired(self, grant, reviewer, researcher, model):
        Grant.objects.filter(pk=grant.pk).update(
            granted_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=10)
        )
        second = services.access_request_approve(actor=reviewer, access_request=submit(researcher, model))
        grant.refresh_from_db()
        assert grant.status == GrantStatus.EXPIRED
        assert second.status == GrantStatus.ACTIVE


class TestPolicy:
    def test_policy_set_records_and_keeps_unchanged_statements(self, licence, events):
        model = factories.ModelFactory()
        policy = make_policy(model, licence, statements=["A", "B"])
        first_ids = list(policy.statements.values_list("pk", flat=True))
        make_policy(model, licence, statements=["A", "B"])  # no change: no event
        make_policy(model, licence, statements=["A", "C"])
        active = list(policy.statements.filter(is_active=True).values_list("text", flat=True))
        assert active == ["A", "C"]
        assert policy.statements.get(text="A").pk == first_ids[0]
        assert not policy.statements.get(text="B").is_active
        assert events() == ["access.policy.created", "access.policy.updated"]

    def test_policy_refuses_duplicate_statements_and_zero_days(self, licence):
        model = factories.ModelFactory()
        with pytest.raises(ValidationFailed):
            make_policy(model, licence, statements=["A", "A"])
        with pytest.raises(ValidationFailed):
            make_policy(model, licence, grant_days=0)


def test_revoking_emails_the_researcher_once(researcher, reviewer, model, events):
    grant = services.access_request_approve(
        actor=reviewer, access_request=services.access_request_submit(actor=researcher, **application(model))
    )
    before = Email.objects.filter(to=[researcher.email]).count()
    services.grant_revoke(actor=reviewer, grant=grant, reason="Project ended.")
    revoked = Email.objects.filter(to=[researcher.email]).order_by("id")[before:]
    assert len(revoked) == 1 and "Project ended." in revoked[0].body_text
    assert "grant.revoked" in events() and events().count("grant.revoked") == 1
