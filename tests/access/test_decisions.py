"""Two-person approval, recusal and conflicts of interest, requirements before or after
approval, and the reviewer's shorter grant length."""

import pytest
from django.core import mail
from django.urls import reverse

from accessgate.access import services
from accessgate.access.models import AccessRequest, Grant, GrantStatus, RequestStatus, Review
from accessgate.access.rules.downloads import download_check
from accessgate.access.services import PolicySettings, policy_set
from accessgate.audit.context import RequestMeta
from accessgate.audit.models import AuditEvent
from accessgate.core.errors import AccessDenied, Conflict, InvalidTransition, PolicyNotMet, ValidationFailed
from tests.support.applications import application, make_policy
from tests.support.identity import verify

from .. import factories

pytestmark = pytest.mark.django_db
META = RequestMeta(ip="192.0.2.9", user_agent="pytest")


@pytest.fixture
def second_reviewer(model):
    second = factories.UserFactory(role="reviewer", email="second@lab.example", profile__affiliation="Other Lab")
    model.reviewers.add(second)
    return second


@pytest.fixture
def two_person(model, licence):
    make_policy(model, licence, approvals_required=2)
    model.policy.refresh_from_db()
    return model


@pytest.fixture
def pending(researcher, two_person):
    return services.access_request_submit(actor=researcher, **application(two_person))


class TestTwoPersonApproval:
    def test_first_approval_is_recorded_and_the_second_grants(self, pending, reviewer, second_reviewer, events):
        assert services.access_request_approve(actor=reviewer, access_request=pending, message="ok", meta=META) is None
        pending.refresh_from_db()
        assert pending.status == RequestStatus.SUBMITTED
        assert not Grant.objects.exists()
        assert events() == ["access.request.approval_recorded"]
        first = AuditEvent.objects.get(action="access.request.approval_recorded")
        assert first.actor == reviewer
        assert first.details == {
            "model": pending.model.full_name,
            "review_id": pending.reviews.get().pk,
            "approvals": 1,
            "approvals_required": 2,
        }

        grant = services.access_request_approve(actor=second_reviewer, access_request=pending, meta=META)
        pending.refresh_from_db()
        assert pending.status == RequestStatus.APPROVED
        assert grant.status == GrantStatus.ACTIVE
        assert events() == ["access.request.approval_recorded", "access.request.approved", "grant.created"]
        approved = AuditEvent.objects.get(action="access.request.approved")
        assert approved.actor == second_reviewer
        assert approved.details["approved_by"] == [reviewer.email, second_reviewer.email]
        assert Review.objects.filter(request=pending, decision="approved").count() == 2

    def test_the_same_reviewer_cannot_approve_twice(self, pending, reviewer, events):
        services.access_request_approve(actor=reviewer, access_request=pending)
        with pytest.raises(Conflict, match="You have already approved this request; a second, different reviewer"):
            services.access_request_approve(actor=reviewer, access_request=pending)
        # The only other reviewer of this model has approved already: nobody is left to give the second.
        assert events() == ["access.request.approval_recorded", "access.request.escalated"]
        assert not Grant.objects.exists()

    def test_a_rejection_by_either_reviewer_rejects(self, pending, reviewer, second_reviewer, events):
        services.access_request_approve(actor=reviewer, access_request=pending)
        services.access_request_reject(actor=second_reviewer, access_request=pending, reason="Not convinced.")
        pending.refresh_from_db()
        assert pending.status == RequestStatus.REJECTED
        assert events() == ["access.request.approval_recorded", "access.request.rejected"]
        assert not Grant.objects.exists()

    def test_approvals_reset_after_changes_are_requested(self, pending, reviewer, second_reviewer, researcher):
        services.access_request_approve(actor=reviewer, access_request=pending)
        services.access_request_request_changes(actor=second_reviewer, access_request=pending, message="More detail")
        services.access_request_resubmit(
            actor=researcher,
            access_request=pending,
            intended_use="A longer and clearer description of the study.",
            accepted_statement_ids=set(pending.model.policy.statements.values_list("pk", flat=True)),
            typed_name="Rosalind Franklin",
        )
        assert services.access_request_approve(actor=second_reviewer, access_request=pending) is None
        assert services.access_request_approve(actor=reviewer, access_request=pending) is not None

    def test_the_applicant_cannot_be_one_of_the_two(self, two_person, reviewer):
        own = services.access_request_submit(
            actor=reviewer, **application(two_person, typed_name=reviewer.profile.full_name)
        )
        with pytest.raises(AccessDenied, match="Nobody can review their own request."):
            services.access_request_approve(actor=reviewer, access_request=own)

    def test_review_page_shows_one_of_two_with_who_approved(self, client, pending, reviewer, second_reviewer):
        services.access_request_approve(actor=reviewer, access_request=pending)
        client.force_login(second_reviewer)
        page = client.get(reverse("review:detail", args=[pending.pk])).content.decode()
        assert "1 of 2 approvals" in page and f"approved by {reviewer.email}" in page

    def test_policy_refuses_other_counts(self, model, licence):
        with pytest.raises(ValidationFailed, match="one or two approvals"):
            policy_set(actor=None, model=model, terms=PolicySettings(license=licence, approvals_required=3))


class TestRecusal:
    def test_recused_reviewer_cannot_decide(self, pending, reviewer, events):
        recusal = services.access_request_recuse(
            actor=reviewer, access_request=pending, reason="Former student.", meta=META
        )
        assert recusal.reason == "Former student."
        assert events() == ["access.request.recused", "access.request.escalated"]  # the only reviewer stepped aside
        event = AuditEvent.objects.get(action="access.request.recused")
        assert event.actor == reviewer and event.details == {
            "model": pending.model.full_name,
            "reason": "Former student.",
        }
        message = "You recused yourself from this request; another reviewer must decide it."
        with pytest.raises(AccessDenied, match=message):
            services.access_request_approve(actor=reviewer, access_request=pending)
        with pytest.raises(AccessDenied, match=message):
            services.access_request_reject(actor=reviewer, access_request=pending, reason="x")
        with pytest.raises(AccessDenied, match=message):
            services.access_request_recuse(actor=reviewer, access_request=pending, reason="again")
        assert events() == ["access.request.recused", "access.request.escalated"]  # no refused call adds one

    def test_recusal_needs_a_reason(self, pending, reviewer, events):
        with pytest.raises(ValidationFailed, match="Give a reason for recusing"):
            services.access_request_recuse(actor=reviewer, access_request=pending, reason=" ")
        assert events() == []

    def test_no_recusal_from_a_decided_request(self, pending, reviewer, second_reviewer):
        services.access_request_reject(actor=reviewer, access_request=pending, reason="No.")
        with pytest.raises(InvalidTransition, match="This request is rejected; there is nothing left to decide."):
            services.access_request_recuse(actor=second_reviewer, access_request=pending, reason="x")


class TestConflicts:
    def test_shared_institution_and_domain_are_flagged(self, client, model, reviewer):
        # The factories give everyone "University of Testing" and example.org addresses.
        request = apply_to(model, factories.UserFactory())
        client.force_login(reviewer)
        page = client.get(reverse("review:detail", args=[request.pk])).content.decode()
        assert "Conflict of interest" in page
        assert "the institution University of Testing and the e-mail domain example.org" in page
        assert "Consider recusing" in page

    def test_free_mail_domains_do_not_count(self, model, licence):
        from accessgate.access.rules.conflicts import conflicts

        one = factories.UserFactory(email="a@gmail.com", profile__affiliation="A")
        two = factories.UserFactory(email="b@gmail.com", profile__affiliation="B")
        assert conflicts(one, two) == []

    def test_the_policy_can_make_the_flag_a_block(self, model, licence, reviewer, second_reviewer, events):
        make_policy(model, licence, conflict_blocks=True)
        applicant = factories.UserFactory()
        request = services.access_request_submit(
            actor=applicant, **application(model, typed_name=applicant.profile.full_name)
        )
        with pytest.raises(AccessDenied, match="You share the institution University of Testing and the e-mail"):
            services.access_request_approve(actor=reviewer, access_request=request)
        # The second reviewer (Other Lab, lab.example) has no conflict and may decide.
        assert services.access_request_approve(actor=second_reviewer, access_request=request) is not None


@pytest.fixture
def strict(licence, reviewer):
    model = factories.ModelFactory(reviewers=[reviewer])
    make_policy(model, licence, require_identity=True, require_mfa=True)
    factories.make_release(model)
    return model


def apply_to(model, user):
    return services.access_request_submit(actor=user, **application(model, typed_name=user.profile.full_name))


class TestRequirementsBeforeOrAfterApproval:
    def test_before_approval_refuses_with_the_missing_list(self, strict, reviewer, events):
        request = apply_to(strict, factories.UserFactory())
        with pytest.raises(PolicyNotMet) as error:
            services.access_request_approve(actor=reviewer, access_request=request)
        assert error.value.message == (
            "This model's policy needs every requirement before approval; the applicant is missing: "
            "A verified identity (document and selfie); Two-factor authentication. "
            "Ask for changes, or approve once they hold."
        )
        request.refresh_from_db()
        assert request.status == RequestStatus.SUBMITTED and not Grant.objects.exists()
        assert events() == ["access.request.submitted"]

    def test_after_approval_the_grant_waits_and_starts_when_they_hold(
        self, strict, licence, reviewer, events, django_capture_on_commit_callbacks
    ):
        make_policy(strict, licence, require_identity=True, require_mfa=True, requirements_timing="after")
        applicant = factories.UserFactory(profile__full_name="Grace Holder")
        request = apply_to(strict, applicant)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            grant = services.access_request_approve(actor=reviewer, access_request=request)
        assert grant.status == GrantStatus.PENDING
        waiting = ["A verified identity (document and selfie)", "Two-factor authentication"]
        assert grant.waiting_for == waiting
        request.refresh_from_db()
        assert request.reviewer_message == (
            "Approved, waiting for: A verified identity (document and selfie), Two-factor authentication."
        )
        assert "approved, waiting for: A verified identity (document and selfie), Two-factor" in mail.outbox[0].body
        created = AuditEvent.objects.get(action="grant.created")
        assert created.details["status"] == "pending" and created.details["waiting_for"] == waiting
        release = strict.releases.get()
        with pytest.raises(PolicyNotMet, match="is approved, waiting for: A verified identity"):
            download_check(applicant, release)

        factories.add_totp(applicant)
        assert services.grants_activate_ready(user=applicant) == []
        grant.refresh_from_db()
        assert grant.waiting_for == ["A verified identity (document and selfie)"]

        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            verify(applicant)  # the identity signal activates the grant at once
        grant.refresh_from_db()
        assert grant.status == GrantStatus.ACTIVE and grant.waiting_for == []
        assert events()[-1] == "grant.activated"
        assert [m.subject for m in mail.outbox] == [f"[accessgate] Your access to {strict.full_name} is active now"]
        assert download_check(applicant, release, mfa_verified=True) == grant

    def test_my_access_reads_waiting_for(self, client, strict, licence, reviewer):
        make_policy(strict, licence, require_mfa=True, requirements_timing="after")
        applicant = factories.UserFactory()
        services.access_request_approve(actor=reviewer, access_request=apply_to(strict, applicant))
        client.force_login(applicant)
        page = client.get(reverse("access:my_access")).content.decode()
        assert "Approved, waiting for: Two-factor authentication" in page

    def test_second_application_while_pending_is_refused(self, strict, licence, reviewer):
        make_policy(strict, licence, require_mfa=True, requirements_timing="after")
        applicant = factories.UserFactory()
        services.access_request_approve(actor=reviewer, access_request=apply_to(strict, applicant))
        with pytest.raises(Conflict, match="is already approved; see My access"):
            apply_to(strict, applicant)


class TestGrantLength:
    def test_reviewer_may_shorten(self, researcher, model, reviewer):
        request = services.access_request_submit(actor=researcher, **application(model))
        grant = services.access_request_approve(actor=reviewer, access_request=request, grant_days=7)
        assert (grant.expires_at - grant.granted_at).days == 7
        assert AuditEvent.objects.get(action="access.request.approved").details["grant_days"] == 7

    @pytest.mark.parametrize("days", [0, 31])
    def test_never_longer_than_the_policy(self, researcher, model, reviewer, days, events):
        request = services.access_request_submit(actor=researcher, **application(model))
        with pytest.raises(ValidationFailed, match="lasts between 1 and 30 days"):
            services.access_request_approve(actor=reviewer, access_request=request, grant_days=days)
        assert AccessRequest.objects.get(pk=request.pk).status == RequestStatus.SUBMITTED
        assert events() == ["access.request.submitted"]
